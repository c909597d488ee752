// Runs the reference implementations on inputs Pishkhan's tests generated, one answer per line.
//
//   node run.mjs KIND INPUT_FILE OUTPUT_FILE
//
// KIND: national-id, legal-id, sheba, mobile, bill (lines "BILL<TAB>PAYMENT"; answers: bill ID
// valid, pair valid, amount in rials of a valid pair), calendar (lines
// "JY JM JD GY GM GD": our Jalali date and our Gregorian conversion of it).
//
// Before any check, FORMATS.md says: convert Persian and Arabic-Indic digits to ASCII, strip
// spaces, dashes and bidi marks. That step is done here with the oracle's own digit conversion.

import { readFileSync, writeFileSync } from 'node:fs';

import * as tools from '@persian-tools/persian-tools';
import jalaali from 'jalaali-js';

const [kind, inputFile, outputFile] = process.argv.slice(2);
const lines = readFileSync(inputFile, 'utf8').split('\n');
if (lines.at(-1) === '') lines.pop();

const prepare = (text) =>
  tools.digitsArToEn(tools.digitsFaToEn(text)).replace(/[\s\-\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g, '');
const flag = (value) => (value ? '1' : '0');

const answer = {
  'national-id': (line) => flag(tools.verifyIranianNationalId(prepare(line), { checkPrefix: false })),
  'legal-id': (line) => flag(tools.verifyIranianLegalId(prepare(line))),
  sheba: (line) => flag(tools.isShebaValid(prepare(line))),
  mobile: (line) => flag(tools.isPhoneNumberValid(prepare(line))),
  bill: (line) => {
    const [billId, paymentId] = line.split('\t').map(prepare);
    const result = new tools.Bill({ billId, paymentId, currency: 'rial' }).getResult();
    return `${flag(result.isValidBillId)} ${flag(result.isValid)} ${result.isValid ? result.amount : '-'}`;
  },
  calendar: (line) => {
    const [jy, jm, jd, gy, gm, gd] = line.split(' ').map(Number);
    const g = jalaali.toGregorian(jy, jm, jd);
    const j = jalaali.toJalaali(gy, gm, gd);
    const valid = jalaali.isValidJalaaliDate(jy, jm, jd);
    return `${g.gy} ${g.gm} ${g.gd} ${j.jy} ${j.jm} ${j.jd} ${flag(valid)} ${jalaali.jalaaliMonthLength(jy, jm)}`;
  },
}[kind];

if (!answer) {
  console.error(`unknown kind ${kind}`);
  process.exit(2);
}
writeFileSync(outputFile, lines.map(answer).join('\n') + '\n');
