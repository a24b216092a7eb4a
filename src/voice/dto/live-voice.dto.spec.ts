import { AppException } from '../../common/app.exception';
import { PayloadPipe } from '../../realtime/payload.pipe';
import { canonicalLiveMimeType, VoiceChunkDto, VoiceStartDto } from './live-voice.dto';

describe(VoiceChunkDto.name, () => {
  const sut = new PayloadPipe(VoiceChunkDto);
  const voiceId = '6f1c2a52-4a0e-4d3f-9a59-6f0f7a1b2c3d';
  const codeOf = (payload: unknown) => {
    try {
      sut.transform(payload);
      return 'ok';
    } catch (error) {
      return error instanceof AppException ? error.code : 'other';
    }
  };

  it('accepts a chunk whose data is a Buffer and keeps the bytes', () => {
    const data = Buffer.alloc(64 * 1024, 7);
    const dto = sut.transform({ voiceId, index: 3, data });
    expect(dto.index).toBe(3);
    expect(Buffer.isBuffer(dto.data) && dto.data.equals(data)).toBe(true);
  });

  it.each([
    ['a string', 'abc'],
    ['an array of numbers', [1, 2, 3]],
    ['an object', { 0: 1 }],
    ['empty binary', Buffer.alloc(0)],
    ['nothing', undefined],
  ])('refuses data that is %s with VALIDATION', (_name, data) => {
    expect(codeOf({ voiceId, index: 0, data })).toBe('VALIDATION');
  });

  it.each([
    ['a negative index', { voiceId, index: -1, data: Buffer.from('x') }],
    ['a fractional index', { voiceId, index: 0.5, data: Buffer.from('x') }],
    ['an unknown field', { voiceId, index: 0, data: Buffer.from('x'), extra: true }],
    ['a binary payload', Buffer.from('x')],
  ])('refuses %s with VALIDATION', (_name, payload) => {
    expect(codeOf(payload)).toBe('VALIDATION');
  });
});

describe(VoiceStartDto.name, () => {
  const sut = new PayloadPipe(VoiceStartDto);
  const start = (mimeType: unknown) => ({ channelId: '6f1c2a52-4a0e-4d3f-9a59-6f0f7a1b2c3d', clientMsgId: 'c-1', mimeType });

  it.each([
    'audio/webm;codecs=opus',
    'audio/webm; codecs="opus"',
    'audio/ogg; codecs=opus',
    'AUDIO/OGG;CODECS=OPUS',
    'audio/mp4',
    'audio/mp4; codecs=mp4a.40.2',
  ])('accepts the browser media type %s', (mimeType) => {
    expect(sut.transform(start(mimeType)).mimeType).toBe(mimeType);
    expect(canonicalLiveMimeType(mimeType)).toMatch(/^audio\/(webm|ogg|mp4)/);
  });

  it.each(['video/webm', 'audio/wav', 'audio/webm codecs=opus', 'text/html', 'audio/ogg\r\nX-Evil: 1', '', 42])(
    'refuses %p with VALIDATION',
    (mimeType) => {
      expect(() => sut.transform(start(mimeType))).toThrow(AppException);
    },
  );
});
