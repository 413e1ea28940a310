package announce

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// The golden tables testdata/phonemes-<lang>.txt hold, for every segment
// of a pack, the stress of each word as a dictionary gives it (written by
// hand), what espeak-ng is given, and what it makes of it. The test runs
// espeak-ng -x over every segment and checks its phonemes against the
// table and the stress against the dictionary's. -update rewrites every
// column but the stress.

const acute = "\u0301"

type phonemeRow struct {
	key, stress, input, phonemes, alone string
}

const phonemeHeader = `# What the %[1]s pack says, segment by segment, checked by TestPhonemes
# (go test ./display/announce -run Phonemes; -update rewrites every column
# but the stress, which is written by hand).
#
# key      the segment (its file is key.wav)
# stress   its words, syllables split by "·", the stressed vowel marked
#          with an acute, as %[2]s
# input    what espeak-ng is given: the text, or phonemes in [[...]] where
#          espeak-ng's own reading is wrong (words.go, %[1]sRespell)
# phonemes what espeak-ng makes of it (espeak-ng -v %[3]s -q -x); ' is
#          the stress, which must fall on the stressed syllable
# alone    for a respelled segment, what espeak-ng says from the text
#          alone: the error the respelling corrects
`

var stressSource = map[string]string{
	"uk": "the Orthographic dictionary of the Ukrainian\n#          language (УМІФ НАН України) and the 11-volume Словник\n#          української мови give it; monosyllables are not marked",
	"en": "the Cambridge and Oxford learner's dictionaries\n#          give a word said alone; monosyllables are not marked",
}

var langNames = map[string]string{"uk": "ukrainian", "en": "english"}

func TestPhonemes(t *testing.T) {
	sp := espeak(t)
	for _, code := range []string{"uk", "en"} {
		t.Run(code, func(t *testing.T) {
			l := Languages[code]
			golden := filepath.Join("testdata", "phonemes-"+code+".txt")
			rows, err := readPhonemeTable(golden)
			if err != nil && !*update {
				t.Fatal(err)
			}
			var out []phonemeRow
			for _, key := range segmentOrder(l) {
				text := l.Texts[key]
				r := phonemeRow{key: key, stress: text, input: EspeakInput(code, text)}
				if old, ok := rows[key]; ok {
					r.stress = old.stress
				}
				if r.phonemes, err = sp.Phonemes(code, text); err != nil {
					t.Fatal(err)
				}
				if r.input != text {
					if r.alone, err = phonemesAlone(sp, code, text); err != nil {
						t.Fatal(err)
					}
				}
				out = append(out, r)
				if *update {
					continue
				}
				want, ok := rows[key]
				switch {
				case !ok:
					t.Errorf("%s: segment %s (%q) is not in the table: run with -update, then mark its stress", golden, key, text)
					continue
				case want != r:
					t.Errorf("%s: %s:\n got  %q %q %q\n want %q %q %q", golden, key, r.input, r.phonemes, r.alone,
						want.input, want.phonemes, want.alone)
				}
				if err := checkStress(code, text, r.stress, r.phonemes); err != nil {
					t.Errorf("%s: %s: %v", golden, key, err)
				}
			}
			if *update {
				if err := writePhonemeTable(golden, code, out); err != nil {
					t.Fatal(err)
				}
				return
			}
			for key := range rows {
				if _, ok := l.Texts[key]; !ok {
					t.Errorf("%s: %s is no segment of the language", golden, key)
				}
			}
		})
	}
}

// phonemesAlone is what espeak-ng says from text itself, respelling aside.
func phonemesAlone(sp Espeak, lang, text string) (string, error) {
	b, err := sp.run(espeakVoices[lang], text, "-q", "-x")
	return strings.Join(strings.Fields(string(b)), " "), err
}

// segmentOrder lists a language's segments as a reader looks for them: the
// phrases, the number words in order, the letters in alphabetical order.
func segmentOrder(l *Language) []string {
	var keys []string
	seen := map[string]bool{}
	add := func(ks ...string) {
		for _, k := range ks {
			if _, ok := l.Texts[k]; ok && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	for _, part := range l.Sequence {
		add(part)
	}
	for n := range 1000 {
		add(l.Number(n)...)
	}
	for _, n := range []int{1000, 2000, 3000, 5000} {
		add(l.Number(n)...)
	}
	for _, r := range "АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ" {
		add(l.letters[r])
	}
	var rest []string
	for k := range l.Texts {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

func readPhonemeTable(path string) (map[string]phonemeRow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w (run go test ./display/announce -run Phonemes -update)", err)
	}
	rows := map[string]phonemeRow{}
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 && len(f) != 5 {
			return nil, fmt.Errorf("%s:%d: %d columns, want 4 or 5", path, i+1, len(f))
		}
		r := phonemeRow{key: f[0], stress: f[1], input: f[2], phonemes: f[3]}
		if len(f) == 5 {
			r.alone = f[4]
		}
		if _, dup := rows[r.key]; dup {
			return nil, fmt.Errorf("%s:%d: %s twice", path, i+1, r.key)
		}
		rows[r.key] = r
	}
	return rows, nil
}

func writePhonemeTable(path, code string, rows []phonemeRow) error {
	var b strings.Builder
	fmt.Fprintf(&b, phonemeHeader, langNames[code], stressSource[code], espeakVoices[code])
	for _, r := range rows {
		line := strings.Join([]string{r.key, r.stress, r.input, r.phonemes}, "\t")
		if r.alone != "" {
			line += "\t" + r.alone
		}
		b.WriteString(line + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// checkStress holds the phonemes to the stress column: the column spells
// the text; every word of more than one syllable has its stress marked;
// and each word's phonemes have as many syllables, with the stress on
// the marked one.
func checkStress(code, text, stress, phonemes string) error {
	plain := strings.NewReplacer("·", "", acute, "").Replace(stress)
	if !strings.EqualFold(plain, text) {
		return fmt.Errorf("stress %q does not spell the text %q", stress, text)
	}
	words, phWords := strings.Fields(stress), strings.Fields(phonemes)
	if len(words) != len(phWords) {
		return fmt.Errorf("%d words, but %d in the phonemes %q", len(words), len(phWords), phonemes)
	}
	for i, w := range words {
		sylls := strings.Split(w, "·")
		marked := -1
		for j, s := range sylls {
			if strings.Contains(s, acute) {
				if marked >= 0 {
					return fmt.Errorf("%q: two stresses", w)
				}
				marked = j
			}
			if code == "uk" {
				if n := ukrainianVowels(s); n != 1 {
					return fmt.Errorf("%q: syllable %q has %d vowels", w, s, n)
				}
			}
		}
		if len(sylls) > 1 && marked < 0 {
			return fmt.Errorf("%q: stress not marked", w)
		}
		n, stressed := phonemeSyllables(phWords[i])
		if n != len(sylls) {
			return fmt.Errorf("%q: %d syllables, but the phonemes %q have %d", w, len(sylls), phWords[i], n)
		}
		if marked >= 0 && (len(stressed) != 1 || stressed[0] != marked) {
			return fmt.Errorf("%q: the stress is on syllable %d, the phonemes %q stress %v", w, marked+1, phWords[i], plusOne(stressed))
		}
	}
	return nil
}

func plusOne(s []int) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = v + 1
	}
	return out
}

func ukrainianVowels(s string) int {
	n := 0
	for _, r := range strings.ToLower(s) {
		if strings.ContainsRune("аеєиіїоуюя", r) {
			n++
		}
	}
	return n
}

// phonemeSyllables counts the vowels of a word in espeak-ng's mnemonics
// (a run of vowel symbols, like the diphthong aI, is one) and which carry
// the primary stress ('), which stands just before its vowel.
func phonemeSyllables(w string) (n int, stressed []int) {
	// @- is the glide espeak-ng puts into a cluster (t@-r), no syllable;
	// _ marks a pause, : a long vowel, # a vowel's variant.
	w = strings.NewReplacer("@-", "", "_", "", ":", "", "#", "").Replace(w)
	inVowel, stress := false, false
	for len(w) > 0 {
		r, size := utf8.DecodeRuneInString(w)
		w = w[size:]
		switch {
		case r == '\'':
			stress, inVowel = true, false
		case strings.ContainsRune("aeiouAEIOUVyY03@", r):
			if !inVowel {
				if stress {
					stressed = append(stressed, n)
				}
				n++
				stress = false
			}
			inVowel = true
		default:
			inVowel = false
		}
	}
	return n, stressed
}

// The counter itself, on words whose syllables are known.
func TestPhonemeSyllables(t *testing.T) {
	for w, want := range map[string][2]int{
		"vidv'iduvatS": {4, 1}, "t@-r'I": {1, 0}, "T,3:t'i:n": {2, 1}, "n'aInti": {2, 0},
		"z'i@roU": {2, 0}, "I2l'Ev@n": {3, 1}, "m'jakij_:_:": {2, 0}, "dv'Adts;a#t;": {2, 0},
	} {
		n, s := phonemeSyllables(w)
		if n != want[0] || len(s) != 1 || s[0] != want[1] {
			t.Errorf("%s: %d syllables, stress %v; want %d, %d", w, n, s, want[0], want[1])
		}
	}
	if err := checkStress("uk", "сорок", "со́·рок", "sVr'ok"); err == nil {
		t.Error("со́рок with the stress on its second syllable passed")
	}
	if err := checkStress("uk", "сорок", "со·рок", "s'orok"); err == nil {
		t.Error("an unmarked word of two syllables passed")
	}
}
