/** Messages delivered to the application and not read yet, with their byte total for the buffer caps. */
import { Fifo } from './fifo.ts';

export class DeliveryQueue {
  private readonly messages = new Fifo<Uint8Array>();
  bytes = 0;

  push(message: Uint8Array): void {
    this.messages.push(message);
    this.bytes += message.length;
  }

  shift(): Uint8Array | undefined {
    const message = this.messages.shift();
    if (message !== undefined) this.bytes -= message.length;
    return message;
  }

  get length(): number {
    return this.messages.length;
  }
}
