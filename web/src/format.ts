// Shared with the server's PDFs and messages: one formatting of money and dates.
export * from '../../src/shared/format.ts';
