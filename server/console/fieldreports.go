package console

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/server/admin"
)

// The releases page's field reports (issue 20): what installers reported
// of each release of the product chosen (?product=), as aktuald release
// status shows it.

// releasesData is the releases page: a page of releases, the products
// on it, and the field reports of the product chosen.
type releasesData struct {
	admin.ReleasePage
	Products []string
	Product  string
	Field    []fieldRow
}

// fieldRow is one release and channel, with its rate and causes written
// out for the page.
type fieldRow struct {
	admin.ReleaseStatus
	Rate   string // "67%", or "—" when none started
	Causes string // "apply_failed 1, credential_rejected 2", or "—"
	// First: the version's first row (of one per channel), the one that
	// carries the release's actions.
	First bool
}

func fieldRows(rows []admin.ReleaseStatus) []fieldRow {
	out := make([]fieldRow, 0, len(rows))
	for _, r := range rows {
		fr := fieldRow{ReleaseStatus: r, Rate: "—", Causes: "—",
			First: len(out) == 0 || api.CompareVersions(out[len(out)-1].Version, r.Version) != 0}
		if r.SuccessRate != nil {
			fr.Rate = fmt.Sprintf("%.0f%%", *r.SuccessRate*100)
		}
		if len(r.FailedBy) > 0 {
			var parts []string
			for _, c := range slices.Sorted(maps.Keys(r.FailedBy)) {
				parts = append(parts, fmt.Sprintf("%s %d", c, r.FailedBy[c]))
			}
			fr.Causes = strings.Join(parts, ", ")
		}
		out = append(out, fr)
	}
	return out
}

// pageProducts are the distinct products of a page of releases, sorted.
func pageProducts(p admin.ReleasePage) []string {
	var out []string
	for _, r := range p.Releases {
		if !slices.Contains(out, r.Product) {
			out = append(out, r.Product)
		}
	}
	slices.Sort(out)
	return out
}

func fieldPhrases(p *i18n.Printer) map[string]string {
	return map[string]string{
		"Field reports":    p.Sprintf("Field reports"),
		"Field reports of": p.Sprintf("Field reports of"),
		"What installers reported of each release, per channel; each count is of distinct installations.": p.Sprintf("What installers reported of each release, per channel; each count is of distinct installations."),
		"Channel":                               p.Sprintf("Channel"),
		"stable":                                p.Sprintf("stable"),
		"Offered":                               p.Sprintf("Offered"),
		"Started":                               p.Sprintf("Started"),
		"Succeeded":                             p.Sprintf("Succeeded"),
		"Rolled back":                           p.Sprintf("Rolled back"),
		"Failed":                                p.Sprintf("Failed"),
		"Success rate":                          p.Sprintf("Success rate"),
		"Installed now":                         p.Sprintf("Installed now"),
		"Failed by cause":                       p.Sprintf("Failed by cause"),
		"No field reports of this product yet.": p.Sprintf("No field reports of this product yet."),
		"Rollout":                               p.Sprintf("Rollout"),
		"state:live":                            p.Sprintf("offered"),
		"state:halted":                          p.Sprintf("halted"),
		"state:yanked":                          p.Sprintf("withdrawn"),
	}
}
