import type { OrganisationType } from '../../platform/db/schema.ts';
import { gstinCheckChar } from '../../platform/identifiers.ts';
import type { CategoryCode } from './geography.ts';

/** A GSTIN from its first 14 characters, with its check character. */
const g = (first14: string) => first14 + gstinCheckChar(first14);

/**
 * Demo organisations: the kinds of payer the Bihar portal was opened for. `share` is the part of
 * all connections that each owns; `count` fixes a small number instead (large consumers).
 * PANs, TANs and GSTINs are invented but well-formed; department codes are the demo's own.
 */

export type Behaviour = 'on_time' | 'late' | 'arrears' | 'advance';

export interface OrgDef {
  key: string;
  type: OrganisationType;
  name: string;
  hi: string;
  pan?: string;
  tan?: string;
  gstin?: string;
  departmentCode?: string;
  /** The home discom, whose staff decided its registration (illustrative: most sit in Patna). */
  discom: 'NBPDCL' | 'SBPDCL';
  share?: number;
  count?: number;
  /** Categories of its connections with weights. */
  categories: readonly (readonly [CategoryCode, number])[];
  /** Connection names: `{place}`, `{n}` are filled in. */
  sites: readonly string[];
  behaviour: readonly (readonly [Behaviour, number])[];
  email: string;
  mobile: string;
  address: string;
}

const govPay = [['on_time', 30], ['late', 30], ['arrears', 35], ['advance', 5]] as const;
const corpPay = [['on_time', 70], ['late', 20], ['arrears', 5], ['advance', 5]] as const;

export const ORGANISATIONS: readonly OrgDef[] = [
  {
    key: 'edu', type: 'state_department', name: 'Education Department, Government of Bihar', hi: 'शिक्षा विभाग, बिहार सरकार', discom: 'NBPDCL',
    departmentCode: 'BR-EDU', tan: 'PTNE01234F', share: 0.1,
    categories: [['NDS-II', 85], ['DS-II', 15]],
    sites: ['Govt. Primary School, {place}', 'Govt. Middle School, {place}', 'Utkramit Madhya Vidyalaya, {place}', 'Govt. High School, {place}', 'Block Resource Centre, {place}'],
    behaviour: govPay, email: 'ddo.edu@bihar.example.in', mobile: '9431000101', address: 'Vikas Bhawan, Bailey Road, Patna 800015',
  },
  {
    key: 'phed', type: 'state_department', name: 'Public Health Engineering Department, Bihar', hi: 'लोक स्वास्थ्य अभियंत्रण विभाग, बिहार', discom: 'SBPDCL',
    departmentCode: 'BR-PHED', tan: 'PTNP02345G', share: 0.05,
    categories: [['PWW', 96], ['HTS-I', 4]],
    sites: ['PHED Water Supply Scheme, {place}', 'Mini Water Supply, Ward {n}, {place}', 'PHED Pump House No. {n}, {place}'],
    behaviour: govPay, email: 'ee.phed@bihar.example.in', mobile: '9431000102', address: 'Vishweshwaraiya Bhawan, Bailey Road, Patna 800015',
  },
  {
    key: 'udhd', type: 'state_department', name: 'Urban Development and Housing Department, Bihar', hi: 'नगर विकास एवं आवास विभाग, बिहार', discom: 'SBPDCL',
    departmentCode: 'BR-UDHD', tan: 'PTNU03456H', share: 0.04,
    categories: [['SS', 90], ['PWW', 10]],
    sites: ['Street Light Point, Ward {n}, {place} Nagar Parishad', 'High Mast Light, {place} Chowk', 'Nagar Nigam Water Works, {place}'],
    behaviour: govPay, email: 'udhd.accounts@bihar.example.in', mobile: '9431000103', address: 'Vikas Bhawan, New Secretariat, Patna 800015',
  },
  {
    key: 'health', type: 'state_department', name: 'Health Department, Bihar', hi: 'स्वास्थ्य विभाग, बिहार', discom: 'NBPDCL',
    departmentCode: 'BR-HLTH', tan: 'PTNH04567J', share: 0.008,
    categories: [['NDS-II', 90], ['HTS-I', 10]],
    sites: ['Primary Health Centre, {place}', 'Health Sub-Centre, {place}', 'Referral Hospital, {place}', 'Sadar Hospital, {place}'],
    behaviour: govPay, email: 'health.accounts@bihar.example.in', mobile: '9431000104', address: 'Vikas Bhawan, Bailey Road, Patna 800015',
  },
  {
    key: 'home', type: 'state_department', name: 'Home Department (Police), Bihar', hi: 'गृह विभाग (पुलिस), बिहार', discom: 'SBPDCL',
    departmentCode: 'BR-HOME', tan: 'PTNH05678K', share: 0.005,
    categories: [['NDS-II', 100]],
    sites: ['Police Station, {place}', 'Police Outpost, {place}', 'Police Lines, {place}'],
    behaviour: govPay, email: 'police.accounts@bihar.example.in', mobile: '9431000105', address: 'Sardar Patel Bhawan, Bailey Road, Patna 800023',
  },
  {
    key: 'mwrd', type: 'state_department', name: 'Minor Water Resources Department, Bihar', hi: 'लघु जल संसाधन विभाग, बिहार', discom: 'NBPDCL',
    departmentCode: 'BR-MWRD', tan: 'PTNM06789L', share: 0.01,
    categories: [['IAS-II', 100]],
    sites: ['State Tubewell No. {n}, {place}', 'Lift Irrigation Scheme, {place}'],
    behaviour: govPay, email: 'mwrd.accounts@bihar.example.in', mobile: '9431000106', address: 'Sinchai Bhawan, Patna 800015',
  },
  {
    key: 'bsnl', type: 'central_psu', name: 'Bharat Sanchar Nigam Limited, Bihar Circle', hi: 'भारत संचार निगम लिमिटेड, बिहार परिमंडल', discom: 'NBPDCL',
    pan: 'AABCB1234M', tan: 'PTNB07890A', gstin: g('10AABCB1234M1Z'), share: 0.006,
    categories: [['NDS-II', 70], ['LTIS-II', 30]],
    sites: ['BSNL Telephone Exchange, {place}', 'BSNL BTS Site {n}, {place}'],
    behaviour: corpPay, email: 'bsnl.elec@bsnl.example.in', mobile: '9431000107', address: 'Sanchar Sadan, Budh Marg, Patna 800001',
  },
  {
    key: 'sbi', type: 'central_psu', name: 'State Bank of India, Patna Circle', hi: 'भारतीय स्टेट बैंक, पटना मंडल', discom: 'SBPDCL',
    pan: 'AAACS2345N', tan: 'PTNS08901B', gstin: g('10AAACS2345N1Z'), share: 0.004,
    categories: [['NDS-II', 100]],
    sites: ['SBI Branch, {place}', 'SBI ATM, {place}'],
    behaviour: corpPay, email: 'premises.patna@sbi.example.in', mobile: '9431000108', address: 'Local Head Office, West Gandhi Maidan, Patna 800001',
  },
  {
    key: 'iocl', type: 'central_psu', name: 'Indian Oil Corporation Limited', hi: 'इंडियन ऑयल कॉर्पोरेशन लिमिटेड', discom: 'NBPDCL',
    pan: 'AAACI3456P', gstin: g('10AAACI3456P1Z'), share: 0.0008,
    categories: [['NDS-II', 60], ['LTIS-II', 40]],
    sites: ['IOCL Depot, {place}', 'IOCL LPG Bottling Plant, {place}'],
    behaviour: corpPay, email: 'bihar.sales@iocl.example.in', mobile: '9431000109', address: 'Indian Oil Bhawan, Patna 800001',
  },
  {
    key: 'bsbccl', type: 'state_psu', name: 'Bihar State Building Construction Corporation Limited', hi: 'बिहार राज्य भवन निर्माण निगम लिमिटेड', discom: 'SBPDCL',
    pan: 'AABCB4567Q', gstin: g('10AABCB4567Q1Z'), share: 0.0006,
    categories: [['NDS-II', 70], ['LTIS-II', 30]],
    sites: ['BSBCCL Site Office, {place}', 'BSBCCL Construction Site {n}, {place}'],
    behaviour: corpPay, email: 'accounts@bsbccl.example.in', mobile: '9431000110', address: 'Shastri Nagar, Patna 800023',
  },
  {
    key: 'bsfc', type: 'state_psu', name: 'Bihar State Food and Civil Supplies Corporation Limited', hi: 'बिहार राज्य खाद्य एवं असैनिक आपूर्ति निगम लिमिटेड', discom: 'NBPDCL',
    pan: 'AABCB5678R', gstin: g('10AABCB5678R1Z'), share: 0.0015,
    categories: [['LTIS-II', 60], ['NDS-II', 40]],
    sites: ['SFC Warehouse, {place}', 'SFC Godown No. {n}, {place}'],
    behaviour: corpPay, email: 'accounts@bsfc.example.in', mobile: '9431000111', address: 'Jawahar Lal Nehru Marg, Patna 800001',
  },
  {
    key: 'brpnn', type: 'state_psu', name: 'Bihar Rajya Pul Nirman Nigam Limited', hi: 'बिहार राज्य पुल निर्माण निगम लिमिटेड', discom: 'SBPDCL',
    pan: 'AABCB6789S', share: 0.0004,
    categories: [['LTIS-II', 100]],
    sites: ['Bridge Site {n}, {place}'],
    behaviour: corpPay, email: 'accounts@brpnn.example.in', mobile: '9431000112', address: 'Sheikhpura, Patna 800014',
  },
  {
    key: 'indus', type: 'private', name: 'Indus Towers Limited', hi: 'इंडस टावर्स लिमिटेड', discom: 'NBPDCL',
    pan: 'AACCI7890T', gstin: g('10AACCI7890T1Z'), share: 0.008,
    categories: [['NDS-II', 60], ['LTIS-II', 40]],
    sites: ['Indus Tower Site BR{n}, {place}'],
    behaviour: corpPay, email: 'energy.bihar@industowers.example.com', mobile: '9431000113', address: 'Frazer Road, Patna 800001',
  },
  {
    key: 'hdfc', type: 'private', name: 'HDFC Bank Limited', hi: 'एचडीएफसी बैंक लिमिटेड', discom: 'SBPDCL',
    pan: 'AAACH8901U', gstin: g('10AAACH8901U1Z'), share: 0.002,
    categories: [['NDS-II', 100]],
    sites: ['HDFC Bank Branch, {place}', 'HDFC Bank ATM, {place}'],
    behaviour: corpPay, email: 'admin.bihar@hdfcbank.example.com', mobile: '9431000114', address: 'Exhibition Road, Patna 800001',
  },
  {
    key: 'reliance', type: 'private', name: 'Reliance Retail Limited', hi: 'रिलायंस रिटेल लिमिटेड', discom: 'SBPDCL',
    pan: 'AABCR9012V', gstin: g('10AABCR9012V1Z'), share: 0.0008,
    categories: [['NDS-II', 100]],
    sites: ['Reliance Smart Store, {place}', 'Reliance Trends, {place}'],
    behaviour: corpPay, email: 'utilities.bihar@reliance.example.com', mobile: '9431000115', address: 'Boring Road, Patna 800001',
  },
  {
    key: 'magadh_cement', type: 'large_consumer', name: 'Magadh Cement Works Private Limited', hi: 'मगध सीमेंट वर्क्स प्राइवेट लिमिटेड', discom: 'SBPDCL',
    pan: 'AAFCM1234W', gstin: g('10AAFCM1234W1Z'), count: 3,
    categories: [['HTS-II', 100]],
    sites: ['Magadh Cement Works Unit {n}, {place}'],
    behaviour: [['on_time', 60], ['advance', 40]], email: 'power@magadhcement.example.com', mobile: '9431000116', address: 'Industrial Area, Gaya 823001',
  },
  {
    key: 'champaran_sugar', type: 'large_consumer', name: 'Champaran Sugar Mills Limited', hi: 'चंपारण शुगर मिल्स लिमिटेड', discom: 'NBPDCL',
    pan: 'AACCC2345X', gstin: g('10AACCC2345X1Z'), count: 2,
    categories: [['HTS-I', 100]],
    sites: ['Champaran Sugar Mills, {place}'],
    behaviour: [['late', 50], ['arrears', 50]], email: 'accounts@champaransugar.example.com', mobile: '9431000117', address: 'Mill Road, Bettiah 845438',
  },
  {
    key: 'patliputra_steel', type: 'large_consumer', name: 'Patliputra Steel Rolling Private Limited', hi: 'पाटलिपुत्र स्टील रोलिंग प्राइवेट लिमिटेड', discom: 'SBPDCL',
    pan: 'AAHCP3456Y', gstin: g('10AAHCP3456Y1Z'), count: 2,
    categories: [['HTSS', 100]],
    sites: ['Patliputra Steel Rolling Mill, {place}'],
    behaviour: [['on_time', 100]], email: 'power@patliputrasteel.example.com', mobile: '9431000118', address: 'Patliputra Industrial Area, Patna 800013',
  },
];
