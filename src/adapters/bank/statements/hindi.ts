/**
 * The reason a statement file was refused, in Hindi: the parsers compose their reasons in English
 * from a fixed set of phrases (where: the statement, line or row; what: the problem), so the
 * Hindi is composed from the same phrases. What the file itself holds (quoted values, tags such
 * as `:61:`, element names, figures) is kept as it is in both languages. A phrase missing here
 * is left in English; the tests read every refusal the parsers make and expect Devanagari with
 * no English phrase left.
 */

const PHRASES: [RegExp, string][] = [
  // Limits (parse-limits.ts, parse-pool.ts): before "line N", which they contain.
  [/^line ([\d,]+) is (\S+ \S+) long, over the limit of (\S+ \S+) for one line: the file is not read \(a file that is one long line is not a table or a statement\)$/,
    'पंक्ति $1 $2 लंबी है, एक पंक्ति की सीमा $3 से अधिक: फ़ाइल पढ़ी नहीं गई (एक ही लंबी पंक्ति वाली फ़ाइल तालिका या विवरण नहीं होती)'],
  [/a cell is longer than the limit of (\S+ \S+): the file is not read$/, 'एक खाना $1 की सीमा से लंबा है: फ़ाइल पढ़ी नहीं गई'],
  [/: more than ([\d,]+) transaction lines, over the limit for one statement: the file is not read$/, ': $1 से अधिक लेन-देन प्रविष्टियाँ, एक विवरण की सीमा से अधिक: फ़ाइल पढ़ी नहीं गई'],
  [/^reading the file took longer than the limit of ([\d.]+) s and was stopped$/, 'फ़ाइल पढ़ने में $1 सेकंड की सीमा से अधिक समय लगा, इसलिए इसे रोक दिया गया'],
  [/^reading the file needed more than the (\d+) MB of memory allowed and was stopped$/, 'फ़ाइल पढ़ने में अनुमत $1 MB से अधिक मेमोरी लगी, इसलिए इसे रोक दिया गया'],
  [/^the file could not be read: the reader stopped \((.*)\)$/, 'फ़ाइल पढ़ी नहीं जा सकी: पढ़ने वाला रुक गया ($1)'],
  // Where.
  [/^CSV statement: (\d+) bad rows?: /, 'CSV विवरण: $1 ख़राब पंक्तियाँ: '],
  [/; and (\d+) more$/, '; और $1 अन्य'],
  [/\bCSV statement \(account (\S+), rows (\d+)–(\d+)\)/g, 'CSV विवरण (खाता $1, पंक्तियाँ $2–$3)'],
  [/\bCSV statement\b/g, 'CSV विवरण'],
  [/\bMT940 statement (\d+) \(:20: ([^,]*), line (\d+)\)/g, 'MT940 विवरण $1 (:20: $2, पंक्ति $3)'],
  [/\bcamt\.053 statement (\d+) \(Id ([^,]*), line (\d+)\)/g, 'camt.053 विवरण $1 (Id $2, पंक्ति $3)'],
  [/\bMT940 line (\d+)/g, 'MT940 पंक्ति $1'],
  [/\bMT942 line (\d+)/g, 'MT942 पंक्ति $1'],
  [/, account (\S+): /g, ', खाता $1: '],
  [/\bstatement line (\d+) \(:61:\)/g, 'विवरण की प्रविष्टि $1 (:61:)'],
  [/\bentry (\d+): /g, 'प्रविष्टि $1: '],
  [/\brows? (\d+)\b/g, 'पंक्ति $1'],
  [/\blines? (\d+)\b/g, 'पंक्ति $1'],
  // The balance proof.
  [/the balance does not add up: opening (\S+) \+ credits (\S+) − debits (\S+) = (\S+) ([A-Z]{3}), but the closing balance is (\S+) \(difference (\S+)\)/,
    'शेष मेल नहीं खाता: आरंभिक शेष $1 + जमा $2 − नामे $3 = $4 $5, पर अंतिम शेष $6 है (अंतर $7)'],
  [/the closing balance is in ([A-Z]{3}) but the opening balance is in ([A-Z]{3}); the statement cannot prove its balance across currencies/,
    'अंतिम शेष $1 में है पर आरंभिक शेष $2 में; दो मुद्राओं में विवरण अपना शेष सिद्ध नहीं कर सकता'],
  [/the running balance does not add up at (पंक्ति \d+)( \(reading the file newest first\))?: previous balance (\S+) \((पंक्ति \d+)\) (\+ credit|− debit) (\S+) = (\S+), but the row's balance is (\S+) \(difference (\S+)\)/,
    '$1 पर चालू शेष मेल नहीं खाता$2: पिछला शेष $3 ($4) $5 $6 = $7, पर इस पंक्ति का शेष $8 है (अंतर $9)'],
  [/ \(reading the file newest first\)/, ' (फ़ाइल को नवीनतम से पहले पढ़ते हुए)'],
  [/\+ credit/, '+ जमा'],
  [/− debit/, '− नामे'],
  // Files that are not statements.
  [/^the statement file is empty$/, 'विवरण फ़ाइल ख़ाली है'],
  [/^unrecognised statement file: it is binary, not text \(not an MT940, camt\.053 or CSV statement\)$/, 'अपरिचित विवरण फ़ाइल: यह पाठ नहीं, बाइनरी है (MT940, camt.053 या CSV विवरण नहीं)'],
  [/^unrecognised statement file: not an MT940 statement \(no :20: tag with a :60F:\/:60M: opening balance\), not camt\.053 XML \(no BkToCstmrStmt\), and no CSV layout was given$/,
    'अपरिचित विवरण फ़ाइल: न MT940 विवरण (:60F:/:60M: आरंभिक शेष के साथ कोई :20: टैग नहीं), न camt.053 XML (BkToCstmrStmt नहीं), और कोई CSV ढाँचा नहीं दिया गया'],
  [/not an MT940 statement: no :20: tag in the file/, 'MT940 विवरण नहीं: फ़ाइल में कोई :20: टैग नहीं'],
  [/\(its first line reads (⟦\d+⟧)\)/, '(इसकी पहली पंक्ति: $1)'],
  [/not an MT940 statement: (:\w+:) before any :20: tag/, 'MT940 विवरण नहीं: किसी :20: टैग से पहले $1'],
  [/(:\w+:) outside a statement \(statement (\d+) ended at (पंक्ति \d+); a new one starts with :20:\)/, '$1 किसी विवरण के बाहर (विवरण $2 $3 पर समाप्त हुआ; नया विवरण :20: से शुरू होता है)'],
  [/this is an MT942 interim report \(intraday, with no opening and closing balance to prove it\): it is not imported; import the day's MT940 statement, which holds the same lines/,
    'यह MT942 अंतरिम रिपोर्ट है (दिन के बीच की, इसे सिद्ध करने के लिए आरंभिक और अंतिम शेष नहीं): इसे आयात नहीं किया जाता; उस दिन का MT940 विवरण आयात करें, जिसमें यही प्रविष्टियाँ होती हैं'],
  [/^not a camt\.053 file: no BkToCstmrStmt element \(the root element is (<[^>]*>)\)$/, 'camt.053 फ़ाइल नहीं: BkToCstmrStmt तत्व नहीं (मूल तत्व $1 है)'],
  [/^camt\.053 file has no Stmt: BkToCstmrStmt at (पंक्ति \d+) holds no statement$/, 'camt.053 फ़ाइल में कोई Stmt नहीं: $1 पर BkToCstmrStmt में कोई विवरण नहीं'],
  [/camt\.053: malformed XML at (पंक्ति \d+): (.*)$/, 'camt.053: $1 पर XML बिगड़ा हुआ है: $2'],
  [/camt\.053: unsupported XML encoding/, 'camt.053: असमर्थित XML एन्कोडिंग'],
  [/^a CSV statement needs a layout \(csvLayout\) saying which column is which$/, 'CSV विवरण के लिए ढाँचा (csvLayout) चाहिए जो बताए कि कौन-सा स्तंभ क्या है'],
  [/^CSV layout has no account$/, 'CSV ढाँचे में खाता नहीं है'],
  [/^CSV layout must name debit and credit columns, or an amount column(?: \(with a Dr\/Cr column, or signed\))?$/, 'CSV ढाँचे में नामे और जमा स्तंभ, या राशि स्तंभ (Dr/Cr स्तंभ के साथ, या चिह्नित) बताना ज़रूरी है'],
  // CSV.
  [/a quoted cell opened in this row is never closed \(no closing quote mark\), so the rest of the file would be read as one cell; nothing was imported \(the row reads (⟦\d+⟧)\)/,
    'इस पंक्ति में उद्धरण चिह्न (") से खुला खाना कभी बंद नहीं होता, जिससे बाक़ी पूरी फ़ाइल एक ही खाने में पढ़ी जाती; कुछ भी आयात नहीं हुआ (पंक्ति: $1)'],
  [/no header row with the columns (.*) in the first 100 rows \(the first row reads (⟦\d+⟧)\)/, 'पहली 100 पंक्तियों में $1 स्तंभों वाली शीर्ष पंक्ति नहीं मिली (पहली पंक्ति: $2)'],
  [/no transaction rows after the header \((पंक्ति \d+)\); without one there is no balance to prove/, 'शीर्ष पंक्ति ($1) के बाद कोई लेन-देन पंक्ति नहीं; उसके बिना सिद्ध करने को कोई शेष नहीं'],
  [/was turned into scientific notation by Excel; export the file again with the column as text/g, 'को Excel ने वैज्ञानिक संकेतन में बदल दिया है; स्तंभ को पाठ (text) रखकर फ़ाइल फिर से निर्यात करें'],
  [/is not a date \(([^)]*)\)/g, 'तारीख़ नहीं है ($1)'],
  [/is negative beside a Dr\/Cr column/g, 'Dr/Cr स्तंभ के साथ ऋणात्मक है'],
  [/is negative/g, 'ऋणात्मक है'],
  [/is neither Dr nor Cr/g, 'न Dr है न Cr'],
  [/is not a UTR/g, 'UTR नहीं है'],
  [/is not a balance/g, 'शेष नहीं है'],
  [/is not an amount/g, 'राशि नहीं है'],
  [/both (⟦\d+⟧) and (⟦\d+⟧) hold an amount/g, '$1 और $2 दोनों में राशि है'],
  [/(?<=⟦\d+⟧ )is empty/g, 'ख़ाली है'],
  // Amounts.
  [/more than 2 decimals \((\d+)\), and not zeros past the paisa/g, '2 से अधिक दशमलव अंक ($1), और पैसे के बाद के अंक शून्य नहीं'],
  [/has more than one decimal separator/g, 'में एक से अधिक दशमलव चिह्न हैं'],
  [/no digits before the decimal separator/g, 'दशमलव चिह्न से पहले कोई अंक नहीं'],
  [/not a number after the decimal separator/g, 'दशमलव चिह्न के बाद संख्या नहीं'],
  [/\bamount (⟦\d+⟧)/g, 'राशि $1'],
  [/\bno amount\b/g, 'राशि नहीं'],
  [/Amt has no valid Ccy attribute/g, 'Amt में मान्य Ccy गुण नहीं'],
  [/\bno Amt\b/g, 'Amt नहीं'],
  // MT940 fields.
  [/expected C or D, a date YYMMDD, a currency and an amount/g, 'C या D, YYMMDD तारीख़, मुद्रा और राशि अपेक्षित'],
  [/no debit\/credit mark \(C, D, RC or RD\) after the dates/g, 'तारीख़ों के बाद नामे/जमा चिह्न (C, D, RC या RD) नहीं'],
  [/no transaction type \(e\.g\. NTRF\) after the amount/g, 'राशि के बाद लेन-देन का प्रकार (जैसे NTRF) नहीं'],
  [/no value date \(YYMMDD\)/g, 'मूल्य तिथि (YYMMDD) नहीं'],
  [/invalid value date/g, 'अमान्य मूल्य तिथि'],
  [/invalid entry date (⟦\d+⟧) \(MMDD\)/g, 'अमान्य प्रविष्टि तिथि $1 (MMDD)'],
  [/invalid opening balance (:\w+:)/g, 'अमान्य आरंभिक शेष $1'],
  [/invalid closing balance (:\w+:)/g, 'अमान्य अंतिम शेष $1'],
  [/invalid date/g, 'अमान्य तारीख़'],
  [/a second opening balance (:\w+:)/g, 'दूसरा आरंभिक शेष $1'],
  [/a second closing balance (:\w+:)/g, 'दूसरा अंतिम शेष $1'],
  [/closing balance (:\w+:) before the opening balance \(:60F:\/:60M:\)/g, 'आरंभिक शेष (:60F:/:60M:) से पहले अंतिम शेष $1'],
  [/:61: statement line before the opening balance \(:60F:\/:60M:\)/g, 'आरंभिक शेष (:60F:/:60M:) से पहले :61: प्रविष्टि'],
  [/:61: statement line after the closing balance/g, 'अंतिम शेष के बाद :61: प्रविष्टि'],
  [/:20: transaction reference is empty/g, ':20: लेन-देन संदर्भ ख़ाली है'],
  [/:25: account is empty/g, ':25: खाता ख़ाली है'],
  [/no account \(:25:\) in the statement/g, 'विवरण में खाता (:25:) नहीं'],
  [/no opening balance \(:60F: or :60M:\) in the statement/g, 'विवरण में आरंभिक शेष (:60F: या :60M:) नहीं'],
  [/no closing balance \(:62F: or :62M:\): the statement is truncated/g, 'अंतिम शेष (:62F: या :62M:) नहीं: विवरण अधूरा कटा हुआ है'],
  // camt.053 elements.
  [/no opening balance \(Bal with Tp\/CdOrPrtry\/Cd OPBD or PRCD\)/g, 'आरंभिक शेष नहीं (Tp/CdOrPrtry/Cd OPBD या PRCD वाला Bal)'],
  [/no closing balance \(Bal with Tp\/CdOrPrtry\/Cd CLBD\)/g, 'अंतिम शेष नहीं (Tp/CdOrPrtry/Cd CLBD वाला Bal)'],
  [/no account \(Acct\/Id\/IBAN or Acct\/Id\/Othr\/Id\)/g, 'खाता नहीं (Acct/Id/IBAN या Acct/Id/Othr/Id)'],
  [/no Stmt\/Id/g, 'Stmt/Id नहीं'],
  [/neither a value date \(ValDt\) nor a booking date \(BookgDt\)/g, 'न मूल्य तिथि (ValDt) न बुकिंग तिथि (BookgDt)'],
  [/is neither CRDT nor DBIT/g, 'न CRDT है न DBIT'],
  [/\bbalance (\w*|\?): /g, 'शेष $1: '],
];

export function hindiReason(en: string): string {
  const kept: string[] = [];
  // Quoted values are the file's own text: kept out of the translation, put back after.
  let s = en.replace(/"(?:[^"\\]|\\.)*"/g, (q) => `⟦${kept.push(q) - 1}⟧`);
  for (const [re, hi] of PHRASES) s = s.replace(re, hi);
  return s.replace(/⟦(\d+)⟧/g, (_m, i: string) => kept[Number(i)]!);
}
