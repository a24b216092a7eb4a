/** Storage keys of one voice clip, the single key format of uploads, live recordings and renditions. */
export function voiceFileKeys(workspaceId: string, voiceId: string) {
  const base = `${workspaceId}/${voiceId}`;
  return { original: `${base}/original`, opus: `${base}/voice.ogg`, aac: `${base}/voice.m4a` };
}

/** Content types of the stored renditions. */
export const RENDITION_TYPES = { opus: 'audio/ogg; codecs=opus', aac: 'audio/mp4' } as const;
