/**
 * The one definition of "unheard", shared by the channel list, `ready` and `?unheard=true`: voice
 * messages of others in the channel, not deleted, not failed, that the member has not finished
 * (`voice_listens`). The message is `x`; `user` is the SQL parameter holding the member's id.
 */
export const unheardWhereSql = (user: string) => `x.kind = 'voice' AND x.deleted_at IS NULL AND x.author_id <> ${user}
  AND NOT EXISTS (SELECT 1 FROM voice_listens l WHERE l.message_id = x.id AND l.user_id = ${user})
  AND NOT EXISTS (SELECT 1 FROM voice_clips v WHERE v.message_id = x.id AND v.status = 'failed')`;

/**
 * A LATERAL subquery over the unheard messages of the channel `c`: `count` in all and `topics`, a JSON
 * array of `{topicId, unheardCount}` for the topics that have any.
 */
export const unheardCountSql = (user: string) =>
  `SELECT COALESCE(sum(t.n), 0) AS count,
          COALESCE(json_agg(json_build_object('topicId', t.topic_id, 'unheardCount', t.n) ORDER BY t.topic_id)
            FILTER (WHERE t.topic_id IS NOT NULL), '[]'::json) AS topics
     FROM (SELECT x.topic_id, count(*)::int AS n FROM messages x
            WHERE x.channel_id = c.id AND ${unheardWhereSql(user)} GROUP BY x.topic_id) t`;
