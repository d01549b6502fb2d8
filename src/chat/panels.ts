// What `<reel-chat>` loads when the person first opens the recorder or the reel (`sheets.ts`):
// both panels, their sheets and styles.
export { RecorderPanel } from './recorder-panel.js';
export { ReelPanel } from './reel-panel.js';
export { adoptSheetStyles } from './sheet-parts.js';
