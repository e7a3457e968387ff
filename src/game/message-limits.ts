/** Length limits of player text, shared by the schemas, the sanitisers and the web client. */
export const MAX_CHAT_CHARS = 200;
export const MAX_NAME_CHARS = 24;
