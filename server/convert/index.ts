// The conversion stage: an uploaded recording in, an HLS folder (fMP4, H.264 + AAC) out.
export { Converter } from './converter.js';
export { checkTools } from './tools.js';
export { ConvertError, ToolsMissingError } from './errors.js';
export type { ConvertResult, ConverterOptions } from './types.js';
