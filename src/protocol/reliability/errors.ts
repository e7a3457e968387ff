/**
 * Errors thrown to the local sender (never for peer input: a hostile packet is counted, not thrown). Each has a
 * `code` so callers can branch without string matching.
 */

export type ReliabilityErrorCode = 'unknown-channel' | 'message-too-large' | 'send-queue-full' | 'invalid-config';

export class ReliabilityError extends Error {
  constructor(
    readonly code: ReliabilityErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UnknownChannelError extends ReliabilityError {
  constructor(readonly channel: number, channelCount: number) {
    super('unknown-channel', `channel ${channel} does not exist (this link has channels 0..${channelCount - 1})`);
  }
}

export class MessageTooLargeError extends ReliabilityError {
  constructor(
    readonly channel: number,
    readonly size: number,
    readonly limit: number,
  ) {
    super('message-too-large', `message of ${size} bytes exceeds the ${limit}-byte limit of channel ${channel}`);
  }
}

export type QueueLimit = 'messages' | 'bytes';

export class SendQueueFullError extends ReliabilityError {
  constructor(
    readonly channel: number,
    readonly limit: QueueLimit,
    readonly capacity: number,
  ) {
    super(
      'send-queue-full',
      limit === 'messages'
        ? `send queue of channel ${channel} is full (${capacity} messages awaiting acknowledgement)`
        : `send queue of channel ${channel} is full (it may buffer at most ${capacity} bytes)`,
    );
  }
}

export class InvalidConfigError extends ReliabilityError {
  constructor(message: string) {
    super('invalid-config', message);
  }
}
