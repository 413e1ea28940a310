package configs_test

import (
	"bytes"
	"compress/zlib"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/cherga/kiosk/configs"
)

var updateForms = flag.Bool("update-forms", false, "draw the sample forms of configs/forms again")

// The shipped sample forms are what their names say: every form the
// catalogue names is a whole PNG or PDF a kiosk can show. With
// -update-forms, the test draws them first (go test -run SampleForms
// -update-forms ./configs/).
func TestSampleForms(t *testing.T) {
	if *updateForms {
		for id, f := range sampleForms {
			if err := writeForm(filepath.Join("forms", f.file), f); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
		}
	}
	o, err := configs.LoadOffice("office.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Forms) < 8 {
		t.Errorf("the demo office ships %d sample forms, want at least 8", len(o.Forms))
	}
	for _, f := range o.Forms {
		b, err := os.ReadFile(filepath.Join(o.FormsDir, f.File))
		if err != nil {
			t.Fatal(err)
		}
		if gen, ok := sampleForms[f.ID]; !ok || gen.file != f.File {
			t.Errorf("%s (%s) is not drawn by this test; add it to sampleForms", f.ID, f.File)
		}
		switch filepath.Ext(f.File) {
		case ".png":
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Errorf("%s: %v", f.File, err)
				continue
			}
			if r := img.Bounds(); r.Dx() < 600 || r.Dy() < 800 {
				t.Errorf("%s is %v, too small to read on a kiosk", f.File, r)
			}
		case ".pdf":
			if err := checkPDF(b); err != nil {
				t.Errorf("%s: %v", f.File, err)
			}
		}
		if len(b) > 400<<10 {
			t.Errorf("%s has %d bytes; a sample form should stay small", f.File, len(b))
		}
	}
}

// checkPDF checks the PDF's frame: header, trailer and a cross-reference
// table where startxref says.
func checkPDF(b []byte) error {
	if !bytes.HasPrefix(b, []byte("%PDF-1.")) || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("%%EOF")) {
		return fmt.Errorf("no PDF header or %%%%EOF")
	}
	i := bytes.LastIndex(b, []byte("startxref"))
	var at int
	if i < 0 {
		return fmt.Errorf("no startxref")
	}
	if f := strings.Fields(string(b[i+len("startxref"):])); len(f) == 0 {
		return fmt.Errorf("startxref without an offset")
	} else if _, err := fmt.Sscan(f[0], &at); err != nil || at <= 0 || at >= len(b) || !bytes.HasPrefix(b[at:], []byte("xref")) {
		return fmt.Errorf("startxref does not point at the xref table")
	}
	return nil
}

// sampleForm is what a drawn form says: its title, the filled-in fields
// and the closing lines.
type sampleForm struct {
	file   string
	to     string // whom the application is addressed to
	from   string // who applies, in the genitive: «від Коваленко Олени Петрівни»
	sign   string // the signature
	title  string
	fields [][2]string // label, filled-in value
	ending []string
}

const (
	applicant = "Коваленко Олена Петрівна"
	address   = "м. Харків, вул. Сумська, буд. 10, кв. 5"
	phone     = "+380 67 123 45 67"
	passport  = "ID-картка № 001234567, видана 6310, 12.03.2019"
	taxNumber = "3012345678"
)

var sampleForms = map[string]sampleForm{
	"form-subsidy": {file: "subsidy-application.png", to: "Управлінню соціального захисту населення", from: "Коваленко Олени Петрівни", sign: "О. Коваленко",
		title: "ЗАЯВА про призначення житлової субсидії",
		fields: [][2]string{{"Прізвище, ім'я, по батькові", applicant}, {"Адреса житла", address},
			{"РНОКПП", taxNumber}, {"Документ, що посвідчує особу", passport},
			{"Кількість зареєстрованих осіб", "3 (заявниця, чоловік, син 2012 р. н.)"},
			{"Загальна площа житла", "54,3 кв. м, опалювана 54,3 кв. м"},
			{"Послуги, на які призначається субсидія", "централізоване опалення, газопостачання, водопостачання, водовідведення, електроенергія, вивезення побутових відходів"},
			{"Спосіб виплати", "готівкою на поточний рахунок UA21 3052 9900 0002 6201 2345 6789 0 в АТ КБ «ПриватБанк»"},
			{"Телефон", phone}},
		ending: []string{"Достовірність наведених відомостей підтверджую. Даю згоду на обробку персональних даних.", "До заяви додаю: декларацію про доходи та майно домогосподарства."}},
	"form-declaration": {file: "household-declaration.png", to: "Управлінню соціального захисту населення", from: "Коваленко Олени Петрівни", sign: "О. Коваленко",
		title: "ДЕКЛАРАЦІЯ про доходи та майно домогосподарства",
		fields: [][2]string{{"Заявник", applicant + ", РНОКПП " + taxNumber}, {"Адреса", address},
			{"Члени домогосподарства", "Коваленко Іван Миколайович (чоловік), РНОКПП 2987654321; Коваленко Андрій Іванович (син), РНОКПП 3456789012"},
			{"Доходи за попередні два квартали", "заробітна плата — 38 400,00 грн; пенсія — відсутня; допомоги — відсутні"},
			{"Житло у власності", "квартира, 54,3 кв. м, м. Харків"},
			{"Транспортні засоби", "легковий автомобіль, 2009 р. в."},
			{"Депозити понад 100 000 грн", "немає"}},
		ending: []string{"Усі члени домогосподарства ознайомлені зі змістом декларації та погоджуються з нею."}},
	"form-social": {file: "social-assistance-application.pdf", to: "Органу соціального захисту населення", from: "Коваленко Олени Петрівни", sign: "О. Коваленко",
		title: "ЗАЯВА про призначення всіх видів соціальної допомоги, компенсацій та пільг",
		fields: [][2]string{{"Прізвище, ім'я, по батькові", applicant}, {"Дата народження", "14.05.1986"},
			{"Адреса зареєстрованого та фактичного місця проживання", address},
			{"РНОКПП", taxNumber}, {"Документ, що посвідчує особу", passport},
			{"Прошу призначити", "допомогу при народженні дитини"},
			{"Відомості про дитину", "Коваленко Марія Іванівна, 02.10.2025 р. н., свідоцтво про народження І-ВЛ № 123456"},
			{"Спосіб виплати", "на поточний рахунок UA21 3052 9900 0002 6201 2345 6789 0"},
			{"Телефон", phone}},
		ending: []string{"Про обов'язок повідомити про зміни, що впливають на право на допомогу, попереджена."}},
	"form-idp": {file: "idp-registration.png", to: "Органу соціального захисту населення", from: "Шевченка Андрія Васильовича", sign: "А. Шевченко",
		title: "ЗАЯВА про взяття на облік внутрішньо переміщеної особи",
		fields: [][2]string{{"Прізвище, ім'я, по батькові", "Шевченко Андрій Васильович"}, {"Дата і місце народження", "21.08.1979, м. Маріуполь"},
			{"Адреса, з якої перемістилася особа", "Донецька обл., м. Маріуполь, просп. Миру, буд. 42, кв. 17"},
			{"Фактичне місце проживання", "м. Харків, вул. Пушкінська, буд. 55, кв. 12"},
			{"Члени сім'ї, які перемістилися разом", "Шевченко Ірина Олегівна (дружина), Шевченко Софія Андріївна (донька, 2015 р. н.)"},
			{"Документ, що посвідчує особу", "паспорт ВК № 123456, виданий Жовтневим РВ ММУ УМВС у Донецькій обл."},
			{"Телефон", "+380 50 765 43 21"}},
		ending: []string{"Підтверджую, що переміщення зумовлене збройною агресією Російської Федерації."}},
	"form-combatant": {file: "combatant-status.png", to: "Міжвідомчій комісії з питань встановлення статусу", from: "Бондаренка Олександра Сергійовича", sign: "О. Бондаренко",
		title: "ЗАЯВА про встановлення статусу учасника бойових дій",
		fields: [][2]string{{"Прізвище, ім'я, по батькові", "Бондаренко Олександр Сергійович"}, {"Дата народження", "03.02.1990"},
			{"Адреса", "м. Харків, вул. Героїв Праці, буд. 7, кв. 81"}, {"РНОКПП", "3276543210"},
			{"Військове звання, військова частина", "старший сержант, військова частина А0000"},
			{"Період участі", "з 24.02.2022 по 15.09.2023"},
			{"Документи, що підтверджують участь", "довідка військової частини від 20.09.2023 № 1234, витяги з наказів"}},
		ending: []string{"Прошу встановити мені статус учасника бойових дій та видати посвідчення."}},
	"form-sanatorium": {file: "sanatorium-voucher.pdf", to: "Управлінню соціального захисту населення", from: "Мельник Галини Іванівни", sign: "Г. Мельник",
		title: "ЗАЯВА про забезпечення путівкою на санаторно-курортне лікування",
		fields: [][2]string{{"Прізвище, ім'я, по батькові", "Мельник Галина Іванівна"}, {"Категорія", "особа з інвалідністю II групи загального захворювання"},
			{"Посвідчення", "посвідчення особи з інвалідністю серія АБ № 012345"},
			{"Адреса", "м. Харків, просп. Науки, буд. 20, кв. 3"},
			{"Профіль лікування (за довідкою форми № 070/о)", "захворювання системи кровообігу"},
			{"Бажаний сезон", "весна — літо"}, {"Телефон", "+380 63 111 22 33"}},
		ending: []string{"До заяви додаю медичну довідку форми № 070/о та копію посвідчення."}},
	"form-rehab": {file: "rehabilitation-aids.png", to: "Органу соціального захисту населення", from: "Кравчука Петра Олексійовича", sign: "П. Кравчук",
		title: "ЗАЯВА про забезпечення технічними та іншими засобами реабілітації",
		fields: [][2]string{{"Прізвище, ім'я, по батькові", "Кравчук Петро Олексійович"}, {"Дата народження", "11.11.1958"},
			{"Адреса", "м. Харків, вул. Клочківська, буд. 100, кв. 45"}, {"РНОКПП", "2134567890"},
			{"Група інвалідності", "I група, довідка до акта огляду МСЕК серія 12 ААБ № 345678"},
			{"Потрібні засоби реабілітації", "крісло колісне кімнатне; палиця опорна з пристроєм проти ковзання"},
			{"Підприємство (за бажанням)", "за вибором органу соціального захисту"}},
		ending: []string{"Даю згоду на обробку персональних даних."}},
	"form-pension": {file: "pension-application.png", to: "Головному управлінню Пенсійного фонду України в Харківській області", from: "Ткаченко Людмили Миколаївни", sign: "Л. Ткаченко",
		title: "ЗАЯВА про призначення пенсії",
		fields: [][2]string{{"Прізвище, ім'я, по батькові", "Ткаченко Людмила Миколаївна"}, {"Дата народження", "25.03.1965"},
			{"Адреса", "м. Харків, вул. Валентинівська, буд. 31, кв. 9"}, {"РНОКПП", "2391234567"},
			{"Вид пенсії", "пенсія за віком"},
			{"Страховий стаж", "36 років 4 місяці (трудова книжка БТ-І № 1234567)"},
			{"Заробітна плата для обчислення", "за весь період страхового стажу з 01.07.2000"},
			{"Спосіб виплати", "на поточний рахунок в АТ «Ощадбанк» UA67 3226 6900 0002 6201 0000 1234 5"}},
		ending: []string{"Про обов'язок повідомляти про обставини, що впливають на виплату пенсії, попереджена."}},
	"form-residence": {file: "residence-registration.png", to: "Центру надання адміністративних послуг", from: "Коваленко Олени Петрівни", sign: "О. Коваленко",
		title: "ЗАЯВА про реєстрацію місця проживання",
		fields: [][2]string{{"Прізвище, ім'я, по батькові", applicant}, {"Дата народження", "14.05.1986"},
			{"Громадянство", "Україна"}, {"Документ, що посвідчує особу", passport},
			{"Попереднє місце проживання", "Харківська обл., м. Чугуїв, вул. Харківська, буд. 3"},
			{"Нове місце проживання", address},
			{"Згода власника житла", "власник — Коваленко Іван Миколайович, згоду надано особисто"}},
		ending: []string{"Зняття з попереднього місця проживання прошу провести одночасно."}},
	"form-fop": {file: "sole-proprietor-registration.png", to: "Державному реєстратору", from: "Литвиненко Марини Сергіївни", sign: "М. Литвиненко",
		title: "ЗАЯВА про державну реєстрацію фізичної особи — підприємця",
		fields: [][2]string{{"Прізвище, ім'я, по батькові", "Литвиненко Марина Сергіївна"}, {"РНОКПП", "3345678901"},
			{"Місцезнаходження", "м. Харків, вул. Ярослава Мудрого, буд. 14, кв. 2"},
			{"Види економічної діяльності (КВЕД)", "96.02 Надання послуг перукарнями та салонами краси (основний); 47.75 Роздрібна торгівля косметичними товарами"},
			{"Система оподаткування", "спрощена, друга група єдиного податку"},
			{"Електронна адреса", "marina.lytvynenko@example.com"}, {"Телефон", "+380 93 222 33 44"}},
		ending: []string{"Прошу надіслати відомості про реєстрацію на електронну адресу."}},
}

var (
	paperWhite = color.RGBA{255, 255, 255, 255}
	inkBlack   = color.RGBA{20, 20, 20, 255}
	inkBlue    = color.RGBA{20, 50, 160, 255}
	inkRed     = color.RGBA{180, 20, 20, 255}
	ruleGray   = color.RGBA{150, 150, 150, 255}
)

// drawForm draws a form as an A4 page at 100 dpi.
func drawForm(f sampleForm) (image.Image, error) {
	const w, h, margin = 827, 1169, 70
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(paperWhite), image.Point{}, draw.Src)
	faces := map[string]font.Face{}
	for name, spec := range map[string]struct {
		ttf []byte
		px  float64
	}{"body": {goregular.TTF, 17}, "bold": {gobold.TTF, 20}, "hand": {goitalic.TTF, 18}, "small": {goregular.TTF, 14}, "stamp": {gobold.TTF, 26}} {
		ft, err := opentype.Parse(spec.ttf)
		if err != nil {
			return nil, err
		}
		face, err := opentype.NewFace(ft, &opentype.FaceOptions{Size: spec.px, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			return nil, err
		}
		faces[name] = face
	}
	y := margin
	text := func(face, s string, x, width int, c color.Color, right bool) int {
		fc := faces[face]
		lh := fc.Metrics().Height.Ceil() + 4
		for _, line := range wrap(fc, s, width) {
			lx := x
			if right {
				lx = x + width - font.MeasureString(fc, line).Ceil()
			}
			d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: fc, Dot: fixed.P(lx, y+fc.Metrics().Ascent.Ceil())}
			d.DrawString(line)
			y += lh
		}
		return lh
	}
	text("stamp", "ЗРАЗОК ЗАПОВНЕННЯ", margin, w-2*margin, inkRed, true)
	y += 10
	text("body", f.to, w/2, w/2-margin, inkBlack, false)
	text("hand", "від "+f.from, w/2, w/2-margin, inkBlue, false)
	y += 30
	text("bold", f.title, margin, w-2*margin, inkBlack, false)
	y += 20
	for _, fl := range f.fields {
		text("small", fl[0], margin, w-2*margin, inkBlack, false)
		text("hand", fl[1], margin+20, w-2*margin-20, inkBlue, false)
		draw.Draw(img, image.Rect(margin, y+2, w-margin, y+3), image.NewUniform(ruleGray), image.Point{}, draw.Src)
		y += 14
	}
	y += 10
	for _, e := range f.ending {
		text("body", e, margin, w-2*margin, inkBlack, false)
		y += 6
	}
	y += 30
	lineY := y
	text("hand", "15.11.2025", margin, 200, inkBlue, false)
	y = lineY
	text("hand", f.sign, w-margin-260, 260, inkBlue, true)
	draw.Draw(img, image.Rect(margin, y+2, margin+200, y+3), image.NewUniform(ruleGray), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(w-margin-260, y+2, w-margin, y+3), image.NewUniform(ruleGray), image.Point{}, draw.Src)
	y += 6
	text("small", "(дата)", margin, 200, inkBlack, false)
	y -= faces["small"].Metrics().Height.Ceil() + 4
	text("small", "(підпис)", w-margin-260, 260, inkBlack, true)
	if y > h-margin {
		return nil, fmt.Errorf("%s does not fit one page (%d px of %d)", f.file, y, h-margin)
	}
	y = h - margin - 20
	text("small", "Зразок для інформаційного термінала. Бланк заяви видає адміністратор центру.", margin, w-2*margin, ruleGray, false)
	return img, nil
}

// wrap breaks s into lines no wider than width.
func wrap(face font.Face, s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		next := strings.TrimSpace(line + " " + word)
		if line != "" && font.MeasureString(face, next).Ceil() > width {
			lines = append(lines, line)
			next = word
		}
		line = next
	}
	return append(lines, line)
}

// writeForm draws f and writes it as a paletted PNG, or as a one-page PDF
// holding the same picture.
func writeForm(path string, f sampleForm) error {
	img, err := drawForm(f)
	if err != nil {
		return err
	}
	pal := color.Palette{paperWhite, inkBlack, inkBlue, inkRed, ruleGray}
	for i := 1; i < 11; i++ { // antialiasing: tints of black and blue
		v := uint8(255 - i*21)
		pal = append(pal, color.RGBA{v, v, v, 255}, color.RGBA{v / 2, v / 2, 255 - uint8(i*9), 255})
	}
	p := image.NewPaletted(img.Bounds(), pal)
	draw.Draw(p, p.Bounds(), img, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if strings.HasSuffix(path, ".pdf") {
		err = writePDF(&buf, p)
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, p)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// writePDF writes an A4 page showing img (a gray-and-colour scan), the
// smallest PDF that every viewer opens.
func writePDF(buf *bytes.Buffer, img *image.Paletted) error {
	r := img.Bounds()
	var pixels bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&pixels, zlib.BestCompression)
	row := make([]byte, 0, 3*r.Dx())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row = row[:0]
		for x := r.Min.X; x < r.Max.X; x++ {
			c := img.Palette[img.ColorIndexAt(x, y)].(color.RGBA)
			row = append(row, c.R, c.G, c.B)
		}
		if _, err := zw.Write(row); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	content := "q 595 0 0 842 0 0 cm /Im1 Do Q\n"
	var offsets []int
	obj := func(body string, stream []byte) {
		offsets = append(offsets, buf.Len())
		fmt.Fprintf(buf, "%d 0 obj\n%s", len(offsets), body)
		if stream != nil {
			buf.WriteString("\nstream\n")
			buf.Write(stream)
			buf.WriteString("\nendstream")
		}
		buf.WriteString("\nendobj\n")
	}
	buf.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", nil)
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>", nil)
	obj(fmt.Sprintf("<< /Length %d >>", len(content)), []byte(content))
	obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>",
		r.Dx(), r.Dy(), pixels.Len()), pixels.Bytes())
	xref := buf.Len()
	fmt.Fprintf(buf, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(buf, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(buf, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return nil
}
