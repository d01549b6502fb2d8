// hls.js ships types for its full build only; the light build has the same API minus
// subtitles, alternate audio, DRM and CMCD, none of which the player uses.
declare module 'hls.js/light' {
  import Hls from 'hls.js';
  export * from 'hls.js';
  export default Hls;
}
