import { createStore, get, set, type UseStore } from 'idb-keyval';
import type { DeviceChoice } from './camera-recorder.js';

const KEY = 'devices';
let store: UseStore | undefined;

/** reelchat's own small database, so a site's use of idb-keyval's default store is never touched. */
function prefs(): UseStore {
  return (store ??= createStore('reelchat-prefs', 'prefs'));
}

/** The camera and microphone the person chose last time (nothing if storage is unavailable). */
export async function loadDeviceChoice(): Promise<DeviceChoice> {
  try {
    return (await get<DeviceChoice>(KEY, prefs())) ?? {};
  } catch {
    return {};
  }
}

export async function saveDeviceChoice(choice: DeviceChoice): Promise<void> {
  try {
    await set(KEY, { camera: choice.camera, microphone: choice.microphone }, prefs());
  } catch {
    // A preference is not worth an error: the default devices are used next time.
  }
}
