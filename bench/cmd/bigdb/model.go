package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aktual/aktual/api"
)

// Sizes is how much to generate.
type Sizes struct {
	Customers, HWKeys, Ledger int
}

// The names: Bulgarian sole traders (ЕТ „Име Фамилия“), companies made of
// a stem and an ending (Агроинвест ООД), and a few in Latin letters, each
// with a number that keeps a million of them apart. Surnames and stems
// are made of syllables, so that there are thousands of them, as in life:
// with a few dozen, every fragment of a name would match tens of
// thousands of customers, which no real customer list does. A few endings
// (инвест, строй, трейд) stay common, as they are.
var (
	firstNames = strings.Fields(`Иван Георги Димитър Петър Николай Христо Стефан Васил Тодор Йордан
		Мария Елена Десислава Ивана Гергана Надежда Радослава Цветелина Милена Теодора Калин Борислав
		Веселин Пламен Румен Светослав Мартин Александър Виктория Яна`)
	onsets = strings.Fields(`Бо Ра Ми Ле Дра Сто Вла Кра Ни Го Пе Сла Ве Да Ту Ча Ше Жи Цо Хри Зла Бла
		Мла Ру Ко Ла Ма На Ва Гео Ди Ан Ил Ки Си Бе Тра Про Пла Кру`)
	codas       = strings.Fields(`дан мир слав чо ко нчо тко лин рин сен ков ло нев дор гал тан зар бел вен мар`)
	surnameEnds = strings.Fields(`ов ев ски`)
	endings     = strings.Fields(`инвест комерс сервиз консулт трейд строй логистик проект инженеринг
		систем дизайн маркет холдинг`)
	forms = []string{"ООД", "ЕООД", "АД", "ЕАД", "СД"}
	latin = strings.Fields(`Orbit Nova Delta Atlas Vector Helix Quantum Sigma Pixel Nimbus Lumen Astra
		Terra Vita Nexus Apex Cobalt Ember Fjord Gamma Indigo Juno Kappa Lotus Magma Onyx Polar Rhino`)
)

// syllables is a made-up root: an onset and a coda.
func syllables(r *rand.Rand) string { return pick(r, onsets) + pick(r, codas) }

// Customer is one generated customer and its credentials.
type Customer struct {
	Name, VAT, Distributor string
	Code                   api.UpdateCode
	Serials                []string
	Created                time.Time
}

// distributors are the resellers a tenth of the customers are under.
var distributors = []string{"Дистрибутор Север ООД", "Дистрибутор Юг ЕООД", "Partner Varna Ltd"}

// epoch is when the generated history starts; it spans span.
var (
	epoch = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	span  = 7 * 365 * 24 * time.Hour
)

// customerAt is customer i (0-based) of seed: the same seed and index
// give the same customer, whatever else is generated.
func customerAt(seed uint64, i int) Customer {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	var name string
	switch k := r.IntN(10); {
	case k < 4:
		name = fmt.Sprintf("ЕТ „%s %s%s“ %d", pick(r, firstNames), syllables(r), pick(r, surnameEnds), i+1)
	case k < 9:
		name = fmt.Sprintf("%s%s-%d %s", syllables(r), pick(r, endings), i+1, pick(r, forms))
	default:
		name = fmt.Sprintf("%s %s %d Ltd", pick(r, latin), pick(r, latin), i+1)
	}
	// A company's EIK has 9 digits, a sole trader's personal number 10.
	n := 9
	if strings.HasPrefix(name, "ЕТ") {
		n = 10
	}
	c := Customer{Name: name, VAT: "BG" + digits(r, n), Code: code(r),
		Created: epoch.Add(time.Duration(r.Int64N(int64(span / 2))))}
	if r.IntN(10) == 0 {
		c.Distributor = distributors[r.IntN(len(distributors))]
	}
	return c
}

// serialAt is hardware key k's serial.
func serialAt(k int) string { return "HK-" + fmt.Sprintf("%07d", k+1) }

// keyOwner is the customer hardware key k belongs to: spread over the
// customers, a few with several keys.
func keyOwner(k, customers int) int { return int((uint64(k) * 2654435761) % uint64(customers)) }

func pick(r *rand.Rand, from []string) string { return from[r.IntN(len(from))] }

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0' + byte(r.IntN(10))
	}
	return string(b)
}

// code is a valid update code (each group four digits and a Damm check
// digit, as api.NewCode makes them) from r.
func code(r *rand.Rand) api.UpdateCode {
	var b strings.Builder
	for range api.CodeGroups {
		g := digits(r, api.CodeGroupSize-1)
		b.WriteString(g)
		b.WriteByte(api.DammCheckDigit(g))
	}
	return api.UpdateCode(b.String())
}

// Plan is one entitlement's history: its purchases, its updates (each a
// reservation consumed: a reserve and a complete row), the reservations
// still held (a reserve row each) and what remains.
type Plan struct {
	Updates, Held, Remaining int
}

// Purchased is what the plan's purchase rows add up to.
func (p Plan) Purchased() int { return p.Updates + p.Held + p.Remaining }

// Rows is the plan's ledger rows: a purchase, two a consumed update, one
// a held reservation.
func (p Plan) Rows() int { return 1 + 2*p.Updates + p.Held }

// plans spreads about ledger rows over n entitlements: most customers
// update a few times a year, a few (one in a thousand) are busy for
// years, so some customer pages are long. The total is exact.
func plans(seed uint64, n, ledger int) []Plan {
	r := rand.New(rand.NewPCG(seed, 0x6c6564676572))
	out := make([]Plan, n)
	budget := ledger - n // a purchase row each
	weights := make([]float64, n)
	sum := 0.0
	for i := range weights {
		w := r.ExpFloat64()
		if r.IntN(1000) == 0 {
			w *= 100
		}
		weights[i] = w
		sum += w
	}
	used := 0
	for i, w := range weights {
		rows := int(float64(budget) * w / sum)
		p := Plan{Updates: rows / 2, Held: rows % 2, Remaining: r.IntN(6)}
		out[i] = p
		used += p.Rows() - 1
	}
	for i := 0; used < budget; i = (i + 1) % n { // the rounding's remainder
		if budget-used >= 2 {
			out[i].Updates++
			used += 2
		} else {
			out[i].Held++
			used++
		}
	}
	return out
}

// idText is how generated reservations are named: a prefix no real
// reservation ID has, then the round (see history_pg.go) and the
// entitlement, so that IDs come in their order.
func idText(entitlement int64, i int) string {
	return fmt.Sprintf("bigdb-%06d-%08d", i, entitlement)
}
