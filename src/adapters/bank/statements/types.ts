export type StatementFormat = 'mt940' | 'camt053' | 'csv';

export interface StatementLine {
  /** 1-based within its statement. */
  lineNo: number;
  /** 'YYYY-MM-DD' */
  valueDate: string;
  /** 'YYYY-MM-DD' */
  bookingDate: string | null;
  direction: 'credit' | 'debit';
  /** Minor units (two decimals), always >= 0. */
  amountPaise: bigint;
  /** ISO 4217, e.g. 'INR', 'EUR'. */
  currency: string;
  /** The bank's reference: MT940 :61: after '//', camt AcctSvcrRef, CSV "Ref No./Cheque No.". */
  bankRef: string | null;
  /** MT940 :61: customer reference (not NONREF), camt EndToEndId/InstrId (not NOTPROVIDED). */
  customerRef: string | null;
  /** Indian UTR (or IMPS/UPI RRN) when one can be found, upper case. */
  utr: string | null;
  narrative: string;
  payerName: string | null;
  payerAccount: string | null;
  /**
   * A value or booking date the bank sent that is no calendar day (`30/02/2026`), as sent. The
   * line is kept, dated the last day of that month, to be reviewed by a person.
   */
  dateAsSent?: string;
}

export interface ParsedStatement {
  format: StatementFormat;
  account: string;
  statementRef: string;
  /** Currency of the opening balance: the statement currency. */
  currency: string;
  /** Signed: a debit opening balance is negative. */
  openingPaise: bigint;
  openingDate: string | null;
  /** Signed. */
  closingPaise: bigint;
  closingDate: string | null;
  /** Sum of credit lines in the statement currency. */
  creditsPaise: bigint;
  /** Sum of debit lines in the statement currency. */
  debitsPaise: bigint;
  lines: StatementLine[];
}

export interface CsvLayout {
  /** Default: detected among ',', ';' and tab. */
  delimiter?: string;
  /** The account the file is for (CSV files rarely say). */
  account: string;
  /** Default 'INR'. */
  currency?: string;
  /**
   * The format the writer uses. The parser accepts any of these in any row: they are all
   * day-first or ISO, so none can be mistaken for another.
   */
  dateFormat: 'DD/MM/YYYY' | 'DD-MM-YYYY' | 'YYYY-MM-DD' | 'DD-MMM-YYYY' | 'DD MMM YYYY';
  /** Header names, matched case-insensitively with surrounding and repeated spaces ignored. */
  columns: {
    valueDate: string;
    bookingDate?: string;
    narrative: string;
    ref?: string;
    utr?: string;
    /** Either debit + credit columns … */
    debit?: string;
    credit?: string;
    /** … or one amount column and a Dr/Cr (D/C, DR/CR) column; an amount column without drCr is signed. */
    amount?: string;
    drCr?: string;
    /** Running balance after each row: required, it proves the file. */
    balance: string;
    payerName?: string;
  };
}

/** Anything that is not a valid statement. The message says what is wrong and where. */
export class StatementError extends Error {
  override name = 'StatementError';
}

/**
 * What a format parser hands over before the balance proof: a statement plus what the proof
 * needs to say where it is and to refuse balances in two currencies.
 */
export interface StatementDraft extends Omit<ParsedStatement, 'creditsPaise' | 'debitsPaise'> {
  closingCurrency: string;
  /** How an error names this statement, e.g. `MT940 statement 2 (:20: STARTUMS/0, line 16)`. */
  where: string;
}
