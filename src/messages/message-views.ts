import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { discoverProviders } from '../common/discovery';
import type { MessageRow } from './message.rows';
import { MessageView, ReactionView, toMessageView, VoiceView } from './message.view';
import { ReactionRepository } from './reaction.repository';

/** The `voice` object of voice messages' views; the voice feature provides it. */
export interface VoiceViewSource {
  /** Reads through `manager` when given, so a view built inside a transaction sees its writes. */
  voiceFor(messageIds: string[], manager?: EntityManager): Promise<Map<string, VoiceView>>;
}

/** Marks the provider that is this process's {@link VoiceViewSource} (found through DI discovery). */
export const VoiceViewProvider = DiscoveryService.createDecorator<void>();

/** Reactors listed per emoji in an event snapshot; `count` stays exact and history lists everyone. */
export const EVENT_REACTORS_PER_EMOJI = 20;

/**
 * The message as an event carries it: bounded, since every reaction appends one and the log keeps
 * them all (50 emoji of 20 reactors at most, not every reactor of every emoji).
 */
export function eventSnapshot(view: MessageView): MessageView {
  if (view.reactions.every((r) => r.userIds.length <= EVENT_REACTORS_PER_EMOJI)) return view;
  return { ...view, reactions: view.reactions.map((r) => ({ ...r, userIds: r.userIds.slice(0, EVENT_REACTORS_PER_EMOJI) })) };
}

/** Message rows to views: reactions, and the voice object from the voice feature. */
@Injectable()
export class MessageViews {
  private voice: VoiceViewSource | null | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly reactions: ReactionRepository,
    private readonly discovery: DiscoveryService,
  ) {}

  async decorate(rows: readonly MessageRow[], manager: EntityManager = this.dataSource.manager): Promise<MessageView[]> {
    if (rows.length === 0) return [];
    const byMessage = new Map<string, ReactionView[]>();
    for (const r of await this.reactions.groups(manager, rows.map((row) => row.id))) {
      const list = byMessage.get(r.message_id) ?? [];
      list.push({ emoji: r.emoji, count: r.user_ids.length, userIds: r.user_ids });
      byMessage.set(r.message_id, list);
    }
    const voices = await this.voices(rows, manager);
    return rows.map((row) => toMessageView(row, row.deleted_at ? [] : (byMessage.get(row.id) ?? []), voices.get(row.id) ?? null));
  }

  /** The voice objects only (a message just created has no reactions yet). */
  async voices(rows: readonly MessageRow[], manager: EntityManager = this.dataSource.manager): Promise<Map<string, VoiceView>> {
    const ids = rows.filter((r) => r.kind === 'voice').map((r) => r.id);
    const source = this.voiceSource();
    return ids.length > 0 && source ? source.voiceFor(ids, manager) : new Map<string, VoiceView>();
  }

  private voiceSource(): VoiceViewSource | null {
    if (this.voice === undefined) this.voice = discoverProviders<VoiceViewSource>(this.discovery, VoiceViewProvider)[0] ?? null;
    return this.voice;
  }
}
