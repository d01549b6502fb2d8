// What `<reel-chat>` loads when the person first opens the recorder or the reel (`sheets.ts`):
// both panels, their sheets and styles, and the row of a take that uploads.
export { RecorderPanel } from './recorder-panel.js';
export { ReelPanel } from './reel-panel.js';
export { adoptSheetStyles, renderUpload } from './sheet-parts.js';
