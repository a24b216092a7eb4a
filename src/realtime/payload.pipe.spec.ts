import { AppException } from '../common/app.exception';
import { SendMessageDto } from '../messages/dto/message.dto';
import { PayloadPipe } from './payload.pipe';

describe(PayloadPipe.name, () => {
  const sut = new PayloadPipe(SendMessageDto);
  const valid = { channelId: '6f1c2a52-4a0e-4d3f-9a59-6f0f7a1b2c3d', clientMsgId: 'abc:1', body: '  hi  ' };
  const codeOf = (payload: unknown) => {
    try {
      sut.transform(payload);
      return 'ok';
    } catch (error) {
      return error instanceof AppException ? error.code : 'other';
    }
  };

  it('accepts a valid payload and trims the body', () => {
    const dto = sut.transform(valid);
    expect(dto).toBeInstanceOf(SendMessageDto);
    expect(dto.body).toBe('hi');
  });

  it.each([
    ['null', null],
    ['a number', 1],
    ['a string', 'x'],
    ['an array', [valid]],
    ['binary', Buffer.from('x')],
    ['a __proto__ key', JSON.parse(`{"__proto__": {}, "channelId": "${valid.channelId}", "clientMsgId": "a", "body": "b"}`)],
    ['a nested constructor key', { ...valid, topicId: { constructor: {} } }],
    ['an unknown field', { ...valid, admin: true }],
    ['a missing field', { channelId: valid.channelId, body: 'x' }],
    ['an over-long body', { ...valid, body: 'x'.repeat(4001) }],
    ['a blank body', { ...valid, body: '   ' }],
    ['a bad clientMsgId', { ...valid, clientMsgId: 'has space' }],
    ['a NUL character (Postgres text cannot hold it)', { ...valid, body: 'a\u0000b' }],
  ])('refuses %s with VALIDATION', (_name, payload) => {
    expect(codeOf(payload)).toBe('VALIDATION');
  });

  it('names the failing fields in details', () => {
    try {
      sut.transform({ ...valid, clientMsgId: '', body: 5 });
      throw new Error('accepted');
    } catch (error) {
      expect((error as AppException).details?.map((d) => d.field).sort()).toEqual(expect.arrayContaining(['body', 'clientMsgId']));
    }
  });
});
