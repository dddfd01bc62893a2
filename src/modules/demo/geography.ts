/**
 * Bihar's two discoms as demo reference data: circles named after districts, divisions after
 * towns, subdivisions after towns and blocks of that district. Names are real places; the
 * electrical boundaries are illustrative.
 */

type Sub = readonly [name: string, hi: string];
interface DivisionDef {
  name: string;
  hi: string;
  subs: readonly Sub[];
}
export interface CircleDef {
  code: string;
  name: string;
  hi: string;
  divisions: readonly DivisionDef[];
}

export interface DiscomDef {
  code: 'NBPDCL' | 'SBPDCL';
  name: string;
  hi: string;
  /** First digit of LT consumer numbers; with LT digits, the number's length. */
  ltPrefix: string;
  ltSerialDigits: number;
  circles: readonly CircleDef[];
}

const d = (name: string, hi: string, subs: Sub[]): DivisionDef => ({ name, hi, subs });

export const DISCOMS: readonly DiscomDef[] = [
  {
    code: 'NBPDCL',
    name: 'North Bihar Power Distribution Company Limited',
    hi: 'नॉर्थ बिहार पावर डिस्ट्रीब्यूशन कंपनी लिमिटेड',
    ltPrefix: '0',
    ltSerialDigits: 6,
    circles: [
      { code: 'MZP', name: 'Muzaffarpur', hi: 'मुज़फ़्फ़रपुर', divisions: [
        d('Muzaffarpur Urban', 'मुज़फ़्फ़रपुर शहरी', [['Brahmpura', 'ब्रह्मपुरा'], ['Juran Chhapra', 'जूरन छपरा'], ['Bhagwanpur', 'भगवानपुर']]),
        d('Motipur', 'मोतीपुर', [['Motipur', 'मोतीपुर'], ['Baruraj', 'बरूराज'], ['Paroo', 'पारू']]),
        d('Kanti', 'कांटी', [['Kanti', 'कांटी'], ['Marwan', 'मड़वन']]),
      ] },
      { code: 'DBG', name: 'Darbhanga', hi: 'दरभंगा', divisions: [
        d('Darbhanga Urban', 'दरभंगा शहरी', [['Laheriasarai', 'लहेरियासराय'], ['Donar', 'दोनार']]),
        d('Benipur', 'बेनीपुर', [['Benipur', 'बेनीपुर'], ['Biraul', 'बिरौल']]),
        d('Jale', 'जाले', [['Jale', 'जाले'], ['Singhwara', 'सिंहवाड़ा']]),
      ] },
      { code: 'SMP', name: 'Samastipur', hi: 'समस्तीपुर', divisions: [
        d('Samastipur', 'समस्तीपुर', [['Samastipur Town', 'समस्तीपुर नगर'], ['Kalyanpur', 'कल्याणपुर']]),
        d('Rosera', 'रोसड़ा', [['Rosera', 'रोसड़ा'], ['Hasanpur', 'हसनपुर']]),
        d('Dalsinghsarai', 'दलसिंहसराय', [['Dalsinghsarai', 'दलसिंहसराय'], ['Ujiarpur', 'उजियारपुर']]),
      ] },
      { code: 'PRN', name: 'Purnea', hi: 'पूर्णिया', divisions: [
        d('Purnea', 'पूर्णिया', [['Purnea City', 'पूर्णिया सिटी'], ['Kasba', 'कसबा']]),
        d('Banmankhi', 'बनमनखी', [['Banmankhi', 'बनमनखी'], ['Dhamdaha', 'धमदाहा']]),
      ] },
      { code: 'KTR', name: 'Katihar', hi: 'कटिहार', divisions: [
        d('Katihar', 'कटिहार', [['Katihar Town', 'कटिहार नगर'], ['Manihari', 'मनिहारी']]),
        d('Barsoi', 'बारसोई', [['Barsoi', 'बारसोई'], ['Kadwa', 'कदवा']]),
      ] },
      { code: 'SHR', name: 'Saharsa', hi: 'सहरसा', divisions: [
        d('Saharsa', 'सहरसा', [['Saharsa Town', 'सहरसा नगर'], ['Simri Bakhtiyarpur', 'सिमरी बख्तियारपुर']]),
        d('Madhepura', 'मधेपुरा', [['Madhepura', 'मधेपुरा'], ['Murliganj', 'मुरलीगंज']]),
        d('Supaul', 'सुपौल', [['Supaul', 'सुपौल'], ['Triveniganj', 'त्रिवेणीगंज']]),
      ] },
      { code: 'MTH', name: 'Motihari', hi: 'मोतिहारी', divisions: [
        d('Motihari', 'मोतिहारी', [['Motihari Town', 'मोतिहारी नगर'], ['Pipra Kothi', 'पिपराकोठी']]),
        d('Raxaul', 'रक्सौल', [['Raxaul', 'रक्सौल'], ['Adapur', 'आदापुर']]),
        d('Chakia', 'चकिया', [['Chakia', 'चकिया'], ['Mehsi', 'मेहसी']]),
      ] },
      { code: 'BTH', name: 'Bettiah', hi: 'बेतिया', divisions: [
        d('Bettiah', 'बेतिया', [['Bettiah Town', 'बेतिया नगर'], ['Chanpatia', 'चनपटिया']]),
        d('Bagaha', 'बगहा', [['Bagaha', 'बगहा'], ['Ramnagar', 'रामनगर']]),
      ] },
      { code: 'CPR', name: 'Chhapra', hi: 'छपरा', divisions: [
        d('Chhapra', 'छपरा', [['Chhapra Town', 'छपरा नगर'], ['Revelganj', 'रिविलगंज']]),
        d('Marhaura', 'मढ़ौरा', [['Marhaura', 'मढ़ौरा'], ['Amnour', 'अमनौर']]),
        d('Sonepur', 'सोनपुर', [['Sonepur', 'सोनपुर'], ['Dighwara', 'दिघवारा']]),
      ] },
      { code: 'SWN', name: 'Siwan', hi: 'सीवान', divisions: [
        d('Siwan', 'सीवान', [['Siwan Town', 'सीवान नगर'], ['Maharajganj', 'महाराजगंज']]),
        d('Gopalganj', 'गोपालगंज', [['Gopalganj', 'गोपालगंज'], ['Hathua', 'हथुआ']]),
      ] },
      { code: 'HJP', name: 'Hajipur', hi: 'हाजीपुर', divisions: [
        d('Hajipur', 'हाजीपुर', [['Hajipur Town', 'हाजीपुर नगर'], ['Lalganj', 'लालगंज']]),
        d('Mahua', 'महुआ', [['Mahua', 'महुआ'], ['Mahnar', 'महनार']]),
      ] },
      { code: 'BGS', name: 'Begusarai', hi: 'बेगूसराय', divisions: [
        d('Begusarai', 'बेगूसराय', [['Begusarai Town', 'बेगूसराय नगर'], ['Barauni', 'बरौनी']]),
        d('Teghra', 'तेघड़ा', [['Teghra', 'तेघड़ा'], ['Bakhri', 'बखरी']]),
      ] },
      { code: 'MDB', name: 'Madhubani', hi: 'मधुबनी', divisions: [
        d('Madhubani', 'मधुबनी', [['Madhubani Town', 'मधुबनी नगर'], ['Rajnagar', 'राजनगर']]),
        d('Jhanjharpur', 'झंझारपुर', [['Jhanjharpur', 'झंझारपुर'], ['Phulparas', 'फुलपरास']]),
      ] },
      { code: 'STM', name: 'Sitamarhi', hi: 'सीतामढ़ी', divisions: [
        d('Sitamarhi', 'सीतामढ़ी', [['Sitamarhi Town', 'सीतामढ़ी नगर'], ['Dumra', 'डुमरा']]),
        d('Sheohar', 'शिवहर', [['Sheohar', 'शिवहर'], ['Belsand', 'बेलसंड']]),
      ] },
      { code: 'KGJ', name: 'Kishanganj', hi: 'किशनगंज', divisions: [
        d('Kishanganj', 'किशनगंज', [['Kishanganj Town', 'किशनगंज नगर'], ['Bahadurganj', 'बहादुरगंज']]),
        d('Araria', 'अररिया', [['Araria', 'अररिया'], ['Forbesganj', 'फारबिसगंज']]),
      ] },
    ],
  },
  {
    code: 'SBPDCL',
    name: 'South Bihar Power Distribution Company Limited',
    hi: 'साउथ बिहार पावर डिस्ट्रीब्यूशन कंपनी लिमिटेड',
    ltPrefix: '1',
    ltSerialDigits: 7,
    circles: [
      { code: 'PESU', name: 'Patna (PESU)', hi: 'पटना (पेसू)', divisions: [
        d('PESU East', 'पेसू पूर्व', [['Kankarbagh', 'कंकड़बाग'], ['Rajendra Nagar', 'राजेंद्र नगर'], ['Patna City', 'पटना सिटी']]),
        d('PESU West', 'पेसू पश्चिम', [['Boring Road', 'बोरिंग रोड'], ['Gardanibagh', 'गर्दनीबाग'], ['Rajbansi Nagar', 'राजवंशी नगर']]),
        d('Danapur', 'दानापुर', [['Danapur', 'दानापुर'], ['Khagaul', 'खगौल']]),
      ] },
      { code: 'PTR', name: 'Patna Rural', hi: 'पटना ग्रामीण', divisions: [
        d('Barh', 'बाढ़', [['Barh', 'बाढ़'], ['Mokama', 'मोकामा']]),
        d('Masaurhi', 'मसौढ़ी', [['Masaurhi', 'मसौढ़ी'], ['Paliganj', 'पालीगंज']]),
      ] },
      { code: 'GAY', name: 'Gaya', hi: 'गया', divisions: [
        d('Gaya Urban', 'गया शहरी', [['Gaya Town', 'गया नगर'], ['Bodh Gaya', 'बोधगया']]),
        d('Sherghati', 'शेरघाटी', [['Sherghati', 'शेरघाटी'], ['Imamganj', 'इमामगंज']]),
        d('Tekari', 'टेकारी', [['Tekari', 'टेकारी'], ['Belaganj', 'बेलागंज']]),
      ] },
      { code: 'NLD', name: 'Nalanda', hi: 'नालंदा', divisions: [
        d('Biharsharif', 'बिहारशरीफ', [['Biharsharif Town', 'बिहारशरीफ नगर'], ['Rajgir', 'राजगीर']]),
        d('Hilsa', 'हिलसा', [['Hilsa', 'हिलसा'], ['Islampur', 'इस्लामपुर']]),
      ] },
      { code: 'BGP', name: 'Bhagalpur', hi: 'भागलपुर', divisions: [
        d('Bhagalpur Urban', 'भागलपुर शहरी', [['Bhagalpur Town', 'भागलपुर नगर'], ['Nathnagar', 'नाथनगर']]),
        d('Kahalgaon', 'कहलगांव', [['Kahalgaon', 'कहलगांव'], ['Pirpainti', 'पीरपैंती']]),
        d('Naugachia', 'नवगछिया', [['Naugachia', 'नवगछिया'], ['Bihpur', 'बिहपुर']]),
      ] },
      { code: 'MGR', name: 'Munger', hi: 'मुंगेर', divisions: [
        d('Munger', 'मुंगेर', [['Munger Town', 'मुंगेर नगर'], ['Jamalpur', 'जमालपुर']]),
        d('Lakhisarai', 'लखीसराय', [['Lakhisarai', 'लखीसराय'], ['Suryagarha', 'सूर्यगढ़ा']]),
      ] },
      { code: 'ARA', name: 'Arrah', hi: 'आरा', divisions: [
        d('Arrah', 'आरा', [['Arrah Town', 'आरा नगर'], ['Koilwar', 'कोइलवर']]),
        d('Jagdishpur', 'जगदीशपुर', [['Jagdishpur', 'जगदीशपुर'], ['Piro', 'पीरो']]),
        d('Buxar', 'बक्सर', [['Buxar', 'बक्सर'], ['Dumraon', 'डुमरांव']]),
      ] },
      { code: 'SSM', name: 'Sasaram', hi: 'सासाराम', divisions: [
        d('Sasaram', 'सासाराम', [['Sasaram Town', 'सासाराम नगर'], ['Nokha', 'नोखा']]),
        d('Dehri', 'डेहरी', [['Dehri', 'डेहरी'], ['Bikramganj', 'बिक्रमगंज']]),
        d('Bhabua', 'भभुआ', [['Bhabua', 'भभुआ'], ['Mohania', 'मोहनिया']]),
      ] },
      { code: 'AUR', name: 'Aurangabad', hi: 'औरंगाबाद', divisions: [
        d('Aurangabad', 'औरंगाबाद', [['Aurangabad Town', 'औरंगाबाद नगर'], ['Daudnagar', 'दाउदनगर']]),
        d('Jehanabad', 'जहानाबाद', [['Jehanabad', 'जहानाबाद'], ['Arwal', 'अरवल']]),
      ] },
      { code: 'NWD', name: 'Nawada', hi: 'नवादा', divisions: [
        d('Nawada', 'नवादा', [['Nawada Town', 'नवादा नगर'], ['Warisaliganj', 'वारिसलीगंज']]),
        d('Jamui', 'जमुई', [['Jamui', 'जमुई'], ['Jhajha', 'झाझा']]),
        d('Banka', 'बांका', [['Banka', 'बांका'], ['Amarpur', 'अमरपुर']]),
      ] },
    ],
  },
];

export interface SubdivisionRef {
  discom: DiscomDef;
  circle: CircleDef;
  divisionCode: string;
  divisionName: string;
  code: string;
  name: string;
  hi: string;
}

/** Every subdivision of a discom, with its code (3 digits, from 101, in the order above). */
export function subdivisionsOf(discom: DiscomDef): SubdivisionRef[] {
  const out: SubdivisionRef[] = [];
  let next = 101;
  for (const circle of discom.circles) {
    circle.divisions.forEach((div, i) => {
      for (const [name, hi] of div.subs) {
        out.push({ discom, circle, divisionCode: `${circle.code}-${i + 1}`, divisionName: div.name, code: String(next++), name, hi });
      }
    });
  }
  return out;
}

export const TARIFF_CATEGORIES = [
  { code: 'DS-I', name: 'Domestic (Kutir Jyoti)', hi: 'घरेलू (कुटीर ज्योति)', supply: 'LT' },
  { code: 'DS-II', name: 'Domestic', hi: 'घरेलू', supply: 'LT' },
  { code: 'NDS-II', name: 'Non-domestic', hi: 'गैर-घरेलू', supply: 'LT' },
  { code: 'LTIS-II', name: 'LT industrial', hi: 'निम्न दाब औद्योगिक', supply: 'LT' },
  { code: 'IAS-II', name: 'Irrigation and agriculture', hi: 'सिंचाई एवं कृषि', supply: 'LT' },
  { code: 'PWW', name: 'Public water works', hi: 'सार्वजनिक जल कार्य', supply: 'LT' },
  { code: 'SS', name: 'Street light', hi: 'सार्वजनिक प्रकाश (स्ट्रीट लाइट)', supply: 'LT' },
  { code: 'HTS-I', name: 'HT service, 11 kV', hi: 'उच्च दाब सेवा, 11 kV', supply: 'HT' },
  { code: 'HTS-II', name: 'HT service, 33 kV', hi: 'उच्च दाब सेवा, 33 kV', supply: 'HT' },
  { code: 'HTSS', name: 'HT special service', hi: 'उच्च दाब विशेष सेवा', supply: 'HT' },
] as const;

export type CategoryCode = (typeof TARIFF_CATEGORIES)[number]['code'];
