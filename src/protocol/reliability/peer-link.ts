/**
 * `PeerLink`: the message channels between us and one peer, over unreliable, unordered netcode payloads.
 *
 * Pure and clock-free: the caller passes packets in (`receivePacket`), asks for packets out (`flush`), and
 * passes the time to both. A typical tick:
 *
 *     for (const payload of netcodePayloads) link.receivePacket(payload, now);
 *     for (let m = link.receive(0); m; m = link.receive(0)) handle(m);
 *     link.send(1, snapshot);
 *     link.flush(now, (payload) => netcode.sendPayload(payload, now));
 */
import type { Channel } from './channel.ts';
import { type LinkOptions, type ResolvedOptions, resolveOptions } from './config.ts';
import { UnknownChannelError } from './errors.ts';
import { PacketBuilder } from './packet-builder.ts';
import { ReceivedPacketLog } from './received-packets.ts';
import { ReliableOrderedChannel } from './reliable-channel.ts';
import { type AckRecordHandler, SentPacketLog } from './sent-packets.ts';
import { nextSequence, sequenceGreaterThan } from './sequence.ts';
import { type LinkStats, LossWindow, RateMeter, emptyStats, smoothRtt } from './stats.ts';
import { UnreliableChannel } from './unreliable-channel.ts';
import { ACK_BITS, ACK_DELAY_UNIT_SECONDS, type BlockLayout, HEADER_BYTES, MessageBlock, PacketHeader, blockOverhead } from './wire.ts';

/** Receives each outgoing payload. The bytes are reused for the next packet: send or copy them at once. */
export type PacketSink = (payload: Uint8Array) => void;

/** A packet with no room for even an empty unreliable block is not worth starting. */
const MIN_PACKET_BYTES = HEADER_BYTES + blockOverhead('unreliable', false);
/** Waiting this many smoothed RTTs (and at least the floor) for an ack before calling a packet lost. */
const LOSS_TIMEOUT_RTTS = 3;
const MIN_LOSS_TIMEOUT_SECONDS = 0.25;
/**
 * How much of a peer's reported ack delay we believe beyond its maxAckDelaySeconds: its flushes come at its own
 * rate (a client's 30 Hz update), so a held ack may wait up to one flush interval more.
 */
const MAX_FLUSH_GAP_SECONDS = 0.05;
/** Ack-only packets one flush may add; 8 × 33 acks cover the whole received ring. */
const MAX_ACK_ONLY_PACKETS = 8;

export class PeerLink {
  /** Live statistics, updated in place. */
  readonly stats: Readonly<LinkStats>;
  private readonly mutableStats: LinkStats;
  private readonly options: ResolvedOptions;
  private readonly channels: Channel[];
  private readonly layouts: BlockLayout[];
  private readonly sent: SentPacketLog;
  private readonly received = new ReceivedPacketLog();
  private readonly builder: PacketBuilder;
  private readonly inHeader = new PacketHeader();
  private readonly outHeader = new PacketHeader();
  private readonly block = new MessageBlock();
  private readonly loss = new LossWindow();
  private readonly sentRate = new RateMeter();
  private readonly receivedRate = new RateMeter();
  private readonly ackedRate = new RateMeter();
  private readonly onAckRecord: AckRecordHandler;
  private nextPacketSequence: number;
  private sentAny = false;
  private lastSentSequence = 0;

  constructor(options: LinkOptions) {
    this.options = resolveOptions(options);
    const stats = emptyStats(this.options.initialRttSeconds);
    this.mutableStats = stats;
    this.stats = stats;
    const { sliceBytes, maxWholeBytes, firstMessageId } = this.options;
    this.channels = this.options.channels.map((config) =>
      config.layout === 'reliable'
        ? new ReliableOrderedChannel(config, sliceBytes, maxWholeBytes, firstMessageId, stats)
        : new UnreliableChannel(config, stats),
    );
    this.layouts = this.options.channels.map((config) => config.layout);
    this.nextPacketSequence = this.options.firstSequence;
    this.sent = new SentPacketLog(this.options.firstSequence, (lost) => {
      if (lost) stats.packetsLost++;
      stats.packetLoss = this.loss.add(lost);
    });
    this.builder = new PacketBuilder(this.options.maxPacketBytes, this.sent);
    this.onAckRecord = (channel, id, slice) => this.channels[channel]?.onAck(id, slice);
  }

  get channelCount(): number {
    return this.channels.length;
  }

  /** How long an unacked reliable message waits before it is sent again. */
  get resendDelaySeconds(): number {
    const { resendRttFactor, minResendSeconds, maxAckDelaySeconds } = this.options;
    // The peer may hold its ack up to maxAckDelaySeconds (it waits for a packet it sends anyway).
    return Math.max(this.mutableStats.rttSeconds * resendRttFactor, minResendSeconds) + maxAckDelaySeconds;
  }

  /**
   * Queues a message (copied) for the next `flush`. Throws UnknownChannelError, MessageTooLargeError or
   * SendQueueFullError; nothing is queued then.
   */
  send(channel: number, message: Uint8Array): void {
    this.channel(channel).send(message);
  }

  /** The next message delivered on `channel`, or undefined. Reliable-ordered channels deliver in send order. */
  receive(channel: number): Uint8Array | undefined {
    return this.channel(channel).receive();
  }

  /** Every message delivered on `channel` so far. */
  drain(channel: number): Uint8Array[] {
    const source = this.channel(channel);
    const out: Uint8Array[] = [];
    for (let m = source.receive(); m !== undefined; m = source.receive()) out.push(m);
    return out;
  }

  /** Reliable messages on `channel` not yet acked by the peer. */
  unacked(channel: number): number {
    return this.channel(channel).unacked();
  }

  /**
   * Takes one netcode payload from the peer. Never throws on peer input: a malformed packet is counted in
   * `stats.invalidPackets` and changes nothing else. Returns whether the packet was processed (false also for
   * duplicates and packets too old to check).
   */
  receivePacket(packet: Uint8Array, now: number): boolean {
    const stats = this.mutableStats;
    if (!this.isValid(packet)) {
      stats.invalidPackets++;
      return false;
    }
    const header = this.inHeader;
    const arrival = this.received.classify(header.sequence);
    if (arrival !== 'new') {
      if (arrival === 'duplicate') stats.duplicatePackets++;
      else stats.stalePackets++;
      return false;
    }
    stats.packetsReceived++;
    stats.bytesReceived += packet.length;
    this.receivedRate.add(packet.length, now);
    if (header.hasAck) this.processAcks(header, now);

    let carriesMessages = false;
    let ackable = true;
    const block = this.block;
    for (let offset = HEADER_BYTES; offset < packet.length; ) {
      offset = block.read(packet, offset, this.layouts);
      carriesMessages = true;
      if (!this.channel(block.channel).accept(block, packet)) ackable = false;
    }
    this.received.record(header.sequence, ackable, carriesMessages, now);
    return true;
  }

  /** Time-driven bookkeeping: loss outcomes and the bytes/s windows. `flush` calls it; calling it more is fine. */
  update(now: number): void {
    const stats = this.mutableStats;
    const lossTimeout = Math.max(stats.rttSeconds * LOSS_TIMEOUT_RTTS, MIN_LOSS_TIMEOUT_SECONDS) + this.options.maxAckDelaySeconds;
    this.sent.settleUpTo(this.nextPacketSequence, now, lossTimeout);
    const window = this.options.rateWindowSeconds;
    stats.sentBytesPerSecond = this.sentRate.tick(now, window);
    stats.receivedBytesPerSecond = this.receivedRate.tick(now, window);
    stats.ackedBytesPerSecond = this.ackedRate.tick(now, window);
  }

  /**
   * Writes every packet due now, each ≤ maxPacketBytes, to `sink`, within the flush byte budget: new and
   * timed-out reliable messages and slices, queued unreliable messages (those that miss the budget are dropped
   * and counted), channels in priority order; then ack-only packets while we owe the peer acks (a
   * message-carrying packet of theirs no header of ours has acked yet) that have waited maxAckDelaySeconds for
   * a packet to ride on. Returns the number of packets.
   */
  flush(now: number, sink: PacketSink): number {
    this.update(now);
    const resendDelay = this.resendDelaySeconds;
    const builder = this.builder;
    let budget = this.options.maxBytesPerFlush;
    let packets = 0;
    let ackOnly = 0;
    while (budget >= MIN_PACKET_BYTES) {
      builder.begin(this.nextPacketSequence, budget);
      for (const channel of this.channels) channel.pack(builder, now, resendDelay);
      const carriesMessages = !builder.isEmpty;
      if (!carriesMessages && (!this.ackOnlyDue(now) || ackOnly === MAX_ACK_ONLY_PACKETS)) break;
      if (!carriesMessages) ackOnly++;
      budget -= this.emit(now, carriesMessages, sink);
      packets++;
    }
    for (const channel of this.channels) this.mutableStats.unreliableDropped += channel.endFlush();
    return packets;
  }

  /**
   * Whether a flush with nothing else to send must send acks alone: one is owed, and has waited
   * maxAckDelaySeconds for a packet that carries messages to ride on.
   */
  private ackOnlyDue(now: number): boolean {
    const received = this.received;
    return received.owesAck && now - received.owedSince >= this.options.maxAckDelaySeconds;
  }

  /** `flush` into an array of copies, for callers that do not mind the allocations. */
  takePackets(now: number): Uint8Array[] {
    const packets: Uint8Array[] = [];
    this.flush(now, (payload) => packets.push(payload.slice()));
    return packets;
  }

  private channel(id: number): Channel {
    const channel = this.channels[id];
    if (channel === undefined) throw new UnknownChannelError(id, this.channels.length);
    return channel;
  }

  /** Checks the whole packet without touching any state, so a bad packet is rejected before it changes any. */
  private isValid(packet: Uint8Array): boolean {
    if (packet.length < HEADER_BYTES || packet.length > this.options.maxPacketBytes) return false;
    const header = this.inHeader;
    if (!header.read(packet)) return false;
    // An ack for a packet we have not sent yet is a lie.
    if (header.hasAck && (!this.sentAny || sequenceGreaterThan(header.ack, this.lastSentSequence))) return false;
    const block = this.block;
    for (let offset = HEADER_BYTES; offset < packet.length; ) {
      offset = block.read(packet, offset, this.layouts);
      if (offset < 0) return false;
      if (!this.channels[block.channel]!.validate(block)) return false;
    }
    return true;
  }

  private processAcks(header: PacketHeader, now: number): void {
    const stats = this.mutableStats;
    for (let i = 0; i <= ACK_BITS; i++) {
      if (i > 0 && ((header.ackBits >>> (i - 1)) & 1) === 0) continue;
      const sequence = (header.ack - i) & 0xffff;
      // Only the newest ack was sent at the peer's first chance; older ones would inflate the RTT.
      const sentAt = i === 0 ? this.sent.elicitingSendTime(sequence) : -1;
      const size = this.sent.ack(sequence, this.onAckRecord);
      if (size < 0) continue;
      stats.packetsAcked++;
      stats.bytesAcked += size;
      this.ackedRate.add(size, now);
      // Less the time the peer says it held the ack (it waited for a packet it was sending anyway), but never
      // below zero, nor by more than it could honestly have waited (a peer cannot talk our RTT down to nothing).
      if (sentAt >= 0) {
        const raw = now - sentAt;
        const held = Math.min(header.ackDelay * ACK_DELAY_UNIT_SECONDS, this.options.maxAckDelaySeconds + MAX_FLUSH_GAP_SECONDS, raw);
        smoothRtt(stats, raw - held);
      }
    }
  }

  private emit(now: number, carriesMessages: boolean, sink: PacketSink): number {
    const sequence = this.nextPacketSequence;
    const header = this.outHeader;
    this.received.writeAcks(header, now);
    header.sequence = sequence;
    header.write(this.builder.buffer);
    const size = this.builder.offset;
    this.sent.commit(sequence, now, size, carriesMessages);
    this.sentAny = true;
    this.lastSentSequence = sequence;
    this.nextPacketSequence = nextSequence(sequence);
    const stats = this.mutableStats;
    stats.packetsSent++;
    stats.bytesSent += size;
    this.sentRate.add(size, now);
    sink(this.builder.buffer.subarray(0, size));
    return size;
  }
}
