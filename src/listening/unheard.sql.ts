/**
 * The one definition of "unheard", shared by the channel list, `ready` and `?unheard=true`: voice
 * messages of others in the channel, not deleted, not failed, that the member has not finished
 * (`voice_listens`). The message is `x`; `user` is the SQL parameter holding the member's id.
 */
export const unheardWhereSql = (user: string) => `x.kind = 'voice' AND x.deleted_at IS NULL AND x.author_id <> ${user}
  AND NOT EXISTS (SELECT 1 FROM voice_listens l WHERE l.message_id = x.id AND l.user_id = ${user})
  AND NOT EXISTS (SELECT 1 FROM voice_clips v WHERE v.message_id = x.id AND v.status = 'failed')`;

/** A LATERAL subquery counting the unheard messages of the channel `c`. */
export const unheardCountSql = (user: string) =>
  `SELECT count(*) AS count FROM messages x WHERE x.channel_id = c.id AND ${unheardWhereSql(user)}`;
