package announce

import (
	"fmt"
	"unicode"
)

// A call is spoken from segments: short recordings named by a key, like
// "n20" (двадцять) or "letter-zh" (же). Each language says which segments
// a number or a letter takes; a phrase pack holds the recordings.

// Language knows how to say numbers and letters in segments, and what each
// segment says (the text a pack is built from).
type Language struct {
	Code string
	// Sequence is the call's order of segments; "{ticket}" and "{window}"
	// stand for the ticket's and the window's segments.
	Sequence []string
	Texts    map[string]string
	// Respell is what espeak-ng is given for a text it reads wrongly on
	// its own: phoneme mnemonics in [[...]] (espeak-ng's phoneme input).
	// testdata/phonemes-<code>.txt holds what espeak-ng makes of every
	// segment and each word's stress as the dictionary has it; a test
	// compares them.
	Respell map[string]string
	number  func(n int) []string
	letters map[rune]string // ticket prefix letter → segment key
}

// Languages by code.
var Languages = map[string]*Language{"uk": ukrainian, "en": english}

// Number gives the segments that say n (0 to 9999).
func (l *Language) Number(n int) []string { return l.number(n) }

// Ticket gives the segments that say a ticket number: its letters by name
// and its digits as a number, leading zeros not spoken. Characters no
// segment says (a dash, a Latin letter) are left out and returned.
func (l *Language) Ticket(number string) (keys []string, unspoken []rune) {
	runes := []rune(number)
	for i := 0; i < len(runes); {
		r := runes[i]
		switch {
		case unicode.IsDigit(r):
			j := i
			n := 0
			for j < len(runes) && unicode.IsDigit(runes[j]) && j-i < 4 {
				n = n*10 + int(runes[j]-'0')
				j++
			}
			keys = append(keys, l.number(n)...)
			i = j
			continue
		case unicode.IsLetter(r):
			if k, ok := l.letters[unicode.ToUpper(r)]; ok {
				keys = append(keys, k)
			} else {
				unspoken = append(unspoken, r)
			}
		default:
			if !unicode.IsSpace(r) && r != '-' {
				unspoken = append(unspoken, r)
			}
		}
		i++
	}
	return keys, unspoken
}

// letterKeys names each Ukrainian letter's segment by its Latin spelling
// (the national transliteration), so file names stay ASCII.
var letterKeys = map[rune]string{
	'А': "a", 'Б': "b", 'В': "v", 'Г': "h", 'Ґ': "g", 'Д': "d", 'Е': "e", 'Є': "ye", 'Ж': "zh", 'З': "z",
	'И': "y", 'І': "i", 'Ї': "yi", 'Й': "j", 'К': "k", 'Л': "l", 'М': "m", 'Н': "n", 'О': "o", 'П': "p",
	'Р': "r", 'С': "s", 'Т': "t", 'У': "u", 'Ф': "f", 'Х': "kh", 'Ц': "ts", 'Ч': "ch", 'Ш': "sh", 'Щ': "shch",
	'Ь': "soft", 'Ю': "yu", 'Я': "ya",
}

func letterSegments(names map[rune]string) (map[rune]string, map[string]string) {
	keys := map[rune]string{}
	texts := map[string]string{}
	for r, k := range letterKeys {
		keys[r] = "letter-" + k
		texts["letter-"+k] = names[r]
	}
	return keys, texts
}

var ukrainian = func() *Language {
	// Letter names as read aloud: "а", "бе", "ве", "ге", "ґе"...
	names := map[rune]string{
		'А': "а", 'Б': "бе", 'В': "ве", 'Г': "ге", 'Ґ': "ґе", 'Д': "де", 'Е': "е", 'Є': "є", 'Ж': "же", 'З': "зе",
		'И': "и", 'І': "і", 'Ї': "ї", 'Й': "йот", 'К': "ка", 'Л': "ел", 'М': "ем", 'Н': "ен", 'О': "о", 'П': "пе",
		'Р': "ер", 'С': "ес", 'Т': "те", 'У': "у", 'Ф': "еф", 'Х': "ха", 'Ц': "це", 'Ч': "че", 'Ш': "ша", 'Щ': "ща",
		'Ь': "м'який знак", 'Ю': "ю", 'Я': "я",
	}
	letters, texts := letterSegments(names)
	// Masculine forms: after "номер" it is "один", "два".
	words := []string{"нуль", "один", "два", "три", "чотири", "п'ять", "шість", "сім", "вісім", "дев'ять",
		"десять", "одинадцять", "дванадцять", "тринадцять", "чотирнадцять", "п'ятнадцять", "шістнадцять",
		"сімнадцять", "вісімнадцять", "дев'ятнадцять"}
	for n, w := range words {
		texts[fmt.Sprintf("n%d", n)] = w
	}
	for i, w := range []string{"двадцять", "тридцять", "сорок", "п'ятдесят", "шістдесят", "сімдесят", "вісімдесят", "дев'яносто"} {
		texts[fmt.Sprintf("n%d", (i+2)*10)] = w
	}
	for i, w := range []string{"сто", "двісті", "триста", "чотириста", "п'ятсот", "шістсот", "сімсот", "вісімсот", "дев'ятсот"} {
		texts[fmt.Sprintf("n%d", (i+1)*100)] = w
	}
	// Thousands agree with their number: тисяча, дві тисячі, п'ять тисяч.
	texts["thousand-1"], texts["thousand-2"], texts["thousand-5"], texts["n2f"] = "тисяча", "тисячі", "тисяч", "дві"
	texts["visitor"] = "Відвідувач номер"
	texts["to-window"] = "підійдіть до вікна номер"
	return &Language{
		Code: "uk", Sequence: []string{"visitor", "{ticket}", "to-window", "{window}"}, Texts: texts,
		Respell: ukrainianRespell, letters: letters, number: ukrainianNumber,
	}
}()

// ukrainianRespell: espeak-ng 1.51 reads Ukrainian with Russian habits. It
// stresses відві́дувач, підійді́ть, вікна́, оди́н, со́рок, вісімдеся́т,
// дев'яно́сто, ти́сяча and м'яки́й on the wrong syllable; it reduces an
// unstressed о to [ʌ] and а to [ɪ] (Ukrainian keeps both); it says ч
// soft, щ as [ɕ], и as [i], and drops the softness of ть, сь, ль. So
// every number word and both phrases are given in phonemes, written from
// the standard pronunciation; the stress of each word, as the dictionary
// has it, is in testdata/phonemes-uk.txt. Mnemonics: ' stress, ; soft
// (t; = ть), a# an а that is never reduced, I the vowel и, tS ч, S ш,
// StS щ. The letter names espeak-ng says well (бе, ве, ге…) are left to it.
var ukrainianRespell = map[string]string{
	"Відвідувач номер":         "[[vidv'iduvatS n'omer]]",
	"підійдіть до вікна номер": "[[pid;ijd;'it; do vikn'A n'omer]]",

	"нуль": "[[n'ul^]]", "один": "[[od'In]]", "три": "[[tr'I]]", "чотири": "[[tSot'IrI]]",
	"п'ять": "[[p'jat;]]", "шість": "[[S'is;t;]]", "сім": "[[s;'im]]", "вісім": "[[v'is;im]]",
	"дев'ять": "[[d'evjat;]]", "десять": "[[d'es;at;]]",
	"одинадцять": "[[odIn'Adts;a#t;]]", "дванадцять": "[[dvan'Adts;a#t;]]",
	"тринадцять": "[[trIn'Adts;a#t;]]", "чотирнадцять": "[[tSotIrn'Adts;a#t;]]",
	"п'ятнадцять": "[[pjatn'Adts;a#t;]]", "шістнадцять": "[[Sistn'Adts;a#t;]]",
	"сімнадцять": "[[s;imn'Adts;a#t;]]", "вісімнадцять": "[[vis;imn'Adts;a#t;]]",
	"дев'ятнадцять": "[[devjatn'Adts;a#t;]]",

	"двадцять": "[[dv'Adts;a#t;]]", "тридцять": "[[tr'Idts;a#t;]]", "сорок": "[[s'orok]]",
	"п'ятдесят": "[[pjatdes;'At;]]", "шістдесят": "[[Sistdes;'At;]]", "сімдесят": "[[s;imdes;'At;]]",
	"вісімдесят": "[[vis;imdes;'At;]]", "дев'яносто": "[[devjan'osto]]",

	"двісті": "[[dv'is;t;i]]", "триста": "[[tr'Ista]]", "чотириста": "[[tSot'IrIsta]]",
	"п'ятсот": "[[pjats'ot]]", "шістсот": "[[Sists'ot]]", "сімсот": "[[s;ims'ot]]",
	"вісімсот": "[[vis;ims'ot]]", "дев'ятсот": "[[devjats'ot]]",

	"тисяча": "[[t'Is;atSa]]", "тисячі": "[[t'Is;atSi]]", "тисяч": "[[t'Is;atS]]",

	// Alone, "і" and "и" come out as a 40 ms blip, too short to hear in
	// a hall; ща, че and the soft sign's name as above.
	"і": "[['i:]]", "и": "[['I]]", "ща": "[[StS'A]]", "че": "[[tS'E]]", "м'який знак": "[[mjak'Ij zn'Ak]]",
}

func ukrainianNumber(n int) []string {
	if n == 0 {
		return []string{"n0"}
	}
	var out []string
	if th := n / 1000 % 10; th > 0 {
		switch {
		case th == 1:
			out = append(out, "thousand-1")
		case th == 2:
			out = append(out, "n2f", "thousand-2")
		case th <= 4:
			out = append(out, fmt.Sprintf("n%d", th), "thousand-2")
		default:
			out = append(out, fmt.Sprintf("n%d", th), "thousand-5")
		}
	}
	return append(out, below1000(n%1000, func(h int) []string { return []string{fmt.Sprintf("n%d", h*100)} })...)
}

// below1000 says 1 to 999 from units, teens, tens and hundreds; hundreds
// says the hundreds digit the language's way.
func below1000(n int, hundreds func(h int) []string) []string {
	var out []string
	if h := n / 100; h > 0 {
		out = append(out, hundreds(h)...)
	}
	switch r := n % 100; {
	case r == 0:
	case r < 20:
		out = append(out, fmt.Sprintf("n%d", r))
	default:
		out = append(out, fmt.Sprintf("n%d", r/10*10))
		if r%10 > 0 {
			out = append(out, fmt.Sprintf("n%d", r%10))
		}
	}
	return out
}

var english = func() *Language {
	// Ticket letters are Cyrillic; an English listener hears the letter
	// the way the national transliteration writes it, or its Ukrainian
	// name where that is more than one Latin letter.
	names := map[rune]string{
		'А': "A", 'Б': "B", 'В': "V", 'Г': "H", 'Ґ': "G", 'Д': "D", 'Е': "E", 'Є': "Ye", 'Ж': "Zhe", 'З': "Z",
		'И': "Y", 'І': "I", 'Ї': "Yi", 'Й': "Yot", 'К': "K", 'Л': "L", 'М': "M", 'Н': "N", 'О': "O", 'П': "P",
		'Р': "R", 'С': "S", 'Т': "T", 'У': "U", 'Ф': "F", 'Х': "Kha", 'Ц': "Tse", 'Ч': "Che", 'Ш': "Sha", 'Щ': "Shcha",
		'Ь': "soft sign", 'Ю': "Yu", 'Я': "Ya",
	}
	letters, texts := letterSegments(names)
	words := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
		"eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	for n, w := range words {
		texts[fmt.Sprintf("n%d", n)] = w
	}
	for i, w := range []string{"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"} {
		texts[fmt.Sprintf("n%d", (i+2)*10)] = w
	}
	texts["hundred"], texts["thousand"] = "hundred", "thousand"
	texts["visitor"] = "Visitor number"
	texts["to-window"] = "please go to window number"
	return &Language{
		Code: "en", Sequence: []string{"visitor", "{ticket}", "to-window", "{window}"}, Texts: texts,
		Respell: englishRespell, letters: letters, number: englishNumber,
	}
}()

// englishRespell: espeak-ng stresses the teens on their first syllable, as
// in "THIRteen people"; said alone, as a call says them, they are
// thir·TEEN, which is also what keeps 13 from sounding like 30. The
// Ukrainian letter names it would spell out or misread (Shcha as
// "S-H-cha", Zhe as "zhee", Kha without its [x]) are given in phonemes.
var englishRespell = map[string]string{
	"thirteen": "[[T,3:t'i:n]]", "fourteen": "[[f,o@t'i:n]]", "fifteen": "[[f,Ift'i:n]]",
	"sixteen": "[[s,Ikst'i:n]]", "seventeen": "[[s,Ev@nt'i:n]]", "eighteen": "[[,eIt'i:n]]",
	"nineteen": "[[n,aInt'i:n]]",

	"Ye": "[[j'E]]", "Zhe": "[[Z'E]]", "Kha": "[[x'A:]]", "Tse": "[[ts'E]]", "Che": "[[tS'E]]",
	"Shcha": "[[StS'A:]]",
}

func englishNumber(n int) []string {
	if n == 0 {
		return []string{"n0"}
	}
	var out []string
	if th := n / 1000 % 10; th > 0 {
		out = append(out, fmt.Sprintf("n%d", th), "thousand")
	}
	return append(out, below1000(n%1000, func(h int) []string { return []string{fmt.Sprintf("n%d", h), "hundred"} })...)
}
