package alpha

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// The protocol document's own example: STX "AAHELLO" ETX sums to 01FB.
func TestChecksumExample(t *testing.T) {
	if got := checksum([]byte("\x02AAHELLO\x03")); got != 0x01FB {
		t.Fatalf("checksum %04X, want 01FB", got)
	}
}

func TestWriteTextBytes(t *testing.T) {
	got := WriteText("01", []byte("A123 > 5"))
	body := "\x02AA\x1b0bA123 > 5\x03"
	want := "\x00\x00\x00\x00\x00\x01Z01" + body + "02BE" + "\x04"
	if sum := checksum([]byte(body)); sum != 0x02BE {
		t.Fatalf("test's own sum is %04X", sum)
	}
	if string(got) != want {
		t.Fatalf("packet\n%q\nwant\n%q", got, want)
	}
}

// The examples the Resolution lists for every letter.
func TestTransliterate(t *testing.T) {
	cases := map[string]string{
		"Алушта": "Alushta", "Борщагівка": "Borshchahivka", "Вишгород": "Vyshhorod",
		"Гадяч": "Hadiach", "Згурівка": "Zghurivka", "Ґалаґан": "Galagan",
		"Ґорґани": "Gorgany", "Донецьк": "Donetsk", "Рівне": "Rivne",
		"Олег": "Oleh", "Есмань": "Esman", "Єнакієве": "Yenakiieve",
		"Гаєвич": "Haievych", "Короп'є": "Koropie", "Житомир": "Zhytomyr",
		"Жанна": "Zhanna", "Жежелів": "Zhezheliv", "Закарпаття": "Zakarpattia",
		"Казимирчук": "Kazymyrchuk", "Медвин": "Medvyn", "Михайленко": "Mykhailenko",
		"Іванків": "Ivankiv", "Іващенко": "Ivashchenko", "Їжакевич": "Yizhakevych",
		"Кадиївка": "Kadyivka", "Мар'їне": "Marine", "Йосипівка": "Yosypivka",
		"Стрий": "Stryi", "Олексій": "Oleksii", "Київ": "Kyiv", "Лебедин": "Lebedyn",
		"Леонід": "Leonid", "Мирослав": "Myroslav", "Ніжин": "Nizhyn",
		"Наталія": "Nataliia", "Одеса": "Odesa", "Онищенко": "Onyshchenko",
		"Полтава": "Poltava", "Петро": "Petro", "Решетилівка": "Reshetylivka",
		"Рибчинський": "Rybchynskyi", "Соломія": "Solomiia", "Тернопіль": "Ternopil",
		"Троць": "Trots", "Ужгород": "Uzhhorod", "Уляна": "Uliana", "Фастів": "Fastiv",
		"Філіпчук": "Filipchuk", "Харків": "Kharkiv", "Христина": "Khrystyna",
		"Біла Церква": "Bila Tserkva", "Чернівці": "Chernivtsi", "Шостка": "Shostka",
		"Кишеньки": "Kyshenky", "Щербухи": "Shcherbukhy", "Гоща": "Hoshcha",
		"Гаращенко": "Harashchenko", "Юрій": "Yurii", "Корюківка": "Koriukivka",
		"Яготин": "Yahotyn", "Ярошенко": "Yaroshenko", "Костянтин": "Kostiantyn",
		"Знам'янка": "Znamianka", "Феодосія": "Feodosiia",
		// capitals, tickets and what is not Ukrainian
		"ЩАСТЯ": "SHCHASTIA", "Щ": "Shch", "ЖИТОМИР": "ZHYTOMYR",
		"А123 → 5": "A123 → 5", "Вікно 12": "Vikno 12", "Ticket 7": "Ticket 7",
	}
	for in, want := range cases {
		if got := Transliterate(in); got != want {
			t.Errorf("Transliterate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEncode(t *testing.T) {
	cases := []struct {
		lines   []string
		cs      Charset
		perPage int
		want    string
	}{
		{[]string{"А123 → 5"}, Latin, 1, "A123 > 5"},
		{[]string{"Б7 → 10", "В12 → 3", "А1 → 1"}, Latin, 2, "B7 > 10\rV12 > 3\fA1 > 1"},
		{[]string{"a\x01\x02\x03\x04\x1bb~c", "é№5"}, Latin, 1, "ab-c\f?N5"},
		{[]string{"Вікно № 5 — Є"}, CP1251, 1, "\xc2\xb3\xea\xed\xee N 5 - \xaa"},
		{[]string{"ʼ日"}, CP1251, 1, "'?"},
		{nil, Latin, 1, ""},
	}
	for _, c := range cases {
		if got := string(Encode(c.lines, c.cs, c.perPage)); got != c.want {
			t.Errorf("Encode(%q, %s) = %q, want %q", c.lines, c.cs, got, c.want)
		}
	}
	long := Encode([]string{strings.Repeat("Щ", 100)}, Latin, 1)
	if len(long) != MaxText {
		t.Errorf("long text is %d bytes, want the cap %d", len(long), MaxText)
	}
}

func TestParseRoundTrip(t *testing.T) {
	text := Encode([]string{"Я5 → 7", "Ю8 → 2"}, Latin, 2)
	f, err := Parse(WriteText("0A", text))
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != TypeAll || f.Address != "0A" || f.Command != CmdWriteText || f.Label != FileA || !f.Checked {
		t.Errorf("frame %+v", f)
	}
	if !bytes.Equal(f.Text(), text) {
		t.Errorf("text %q, want %q", f.Text(), text)
	}
	if got := Decode(f.Text(), Latin); strings.Join(got, "|") != "Ya5 > 7|Yu8 > 2" {
		t.Errorf("decoded %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	good := WriteText("00", []byte("HELLO"))
	bad := bytes.Clone(good)
	bad[len(bad)-2] = '0' // a checksum digit
	cases := []struct {
		in   []byte
		want error
	}{
		{[]byte("\x01Z"), ErrShort},
		{bad, ErrChecksum},
		{good[:len(good)-1], ErrFraming},
		{[]byte("\x01ZG0\x02AA\x04"), ErrFraming},
		{[]byte("\x01Z00AA\x04"), ErrFraming},
		{[]byte("\x01Z00\x02AA\x03XYZW\x04"), ErrFraming},
		{[]byte("\x01Z00\x02AA\x1b0\x04"), ErrFraming},
		{[]byte("\x01Z00\x02A\x04"), ErrFraming},
	}
	for _, c := range cases {
		if _, err := Parse(c.in); !errors.Is(err, c.want) {
			t.Errorf("Parse(%q) = %v, want %v", c.in, err, c.want)
		}
	}
	// Without ETX there is no checksum to check; the frame is still good.
	f, err := Parse([]byte("\x01Z00\x02AA\x1b0bHI\x04"))
	if err != nil || f.Checked || string(f.Text()) != "HI" {
		t.Errorf("unchecked frame: %+v, %v", f, err)
	}
}

// The reader drops garbage, a frame cut off by a new SOH and a frame with
// a bad checksum, and goes on with the next.
func TestReaderResync(t *testing.T) {
	good := WriteText("00", []byte("OK"))
	bad := bytes.Clone(good)
	bad[len(bad)-3] ^= 1
	stream := slices(
		[]byte("noise\xff\x04"),
		[]byte("\x01Z00\x02AA\x1b0bCUT"), // no EOT: overtaken
		good,
		bad,
		[]byte("\x01"), bytes.Repeat([]byte("x"), maxFrameLength+10), []byte("\x04"),
		WriteText("00", []byte("LAST")),
	)
	r := NewReader(bytes.NewReader(stream))
	var got []string
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			got = append(got, "error")
			continue
		}
		got = append(got, string(f.Text()))
	}
	if strings.Join(got, ",") != "OK,error,error,LAST" {
		t.Errorf("frames %q", got)
	}
}

func slices(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func FuzzParse(f *testing.F) {
	f.Add(WriteText("00", []byte("A123 > 5")))
	f.Add([]byte("\x01Z00\x02AA\x1b0nXHI\x04"))
	f.Add([]byte("\x01Z00\x02E$\x03"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Parse(b)
		if err != nil {
			return
		}
		_ = fr.Text()
		if fr.Command == CmdWriteText {
			_ = Decode(fr.Text(), CP1251)
		}
		// The reader finds the same frame in a stream.
		inner := bytes.TrimLeft(b, "\x00")
		inner = inner[1 : len(inner)-1]
		if bytes.ContainsAny(inner, "\x01\x04") {
			return // the stream would split it differently
		}
		if _, err := NewReader(bytes.NewReader(append([]byte("junk"), b...))).Next(); err != nil {
			t.Fatalf("Parse accepted %q, the reader did not: %v", b, err)
		}
	})
}

// Whatever the text, the frame we build parses, and its text carries no
// byte that could break the frame.
func FuzzEncode(f *testing.F) {
	f.Add("А123 → 5", 1)
	f.Add("Щ\x01\x04~", 3)
	f.Fuzz(func(t *testing.T, s string, perPage int) {
		if !utf8.ValidString(s) {
			return
		}
		for _, cs := range []Charset{Latin, CP1251} {
			text := Encode(strings.Split(s, "\n"), cs, perPage%5)
			if len(text) > MaxText {
				t.Fatalf("%d bytes", len(text))
			}
			for _, c := range text {
				if c < 0x20 && c != NewLine && c != NewPage || c == 0x7e || c == 0x7f || cs == Latin && c >= 0x80 {
					t.Fatalf("%s text %q has byte %02X", cs, text, c)
				}
			}
			fr, err := Parse(WriteText("00", text))
			if err != nil || !bytes.Equal(fr.Text(), text) {
				t.Fatalf("%q: %v", text, err)
			}
		}
	})
}

// One hall update (three calls, two lines a page) from lines to bytes on
// the wire, and how long those bytes take at 9600 baud, 7E1 (10 bits a
// byte): the line, not the CPU, is the limit.
func BenchmarkHallUpdate(b *testing.B) {
	lines := []string{"А123 → 5", "Щ45 → 10", "Ю7 → 2"}
	var n int
	for b.Loop() {
		n = len(WriteText("00", Encode(lines, Latin, 2)))
	}
	b.ReportMetric(float64(n), "bytes/update")
	b.ReportMetric(float64(n)*10/9600*1000, "ms@9600")
}
