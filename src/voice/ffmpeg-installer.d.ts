/** The package ships no types: it exports where its bundled binary is. */
declare module '@ffmpeg-installer/ffmpeg' {
  export const path: string;
  export const version: string;
  export const url: string;
}
