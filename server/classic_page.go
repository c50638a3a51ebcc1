package server

import (
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/internal/mdtext"
	"github.com/aktual/aktual/server/page"
	"github.com/aktual/aktual/server/store"
)

// handlePage is the page a person opens in the browser: it shows the
// Internet code, or says why there is none and what to do.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	p, chosen := page.Language(r)
	t := page.NewText(p)
	d := page.Data{Lang: p.Lang().String(), ChosenLang: chosen, T: t}
	status := http.StatusOK
	id := r.PathValue("id")
	cs, err := s.Store.Session(r.Context(), id)
	switch {
	case !api.ValidName(id) || errors.Is(err, store.ErrNotFound):
		status, d.Problem, d.Remedy = http.StatusNotFound, t.NotFound, t.NotFoundDo
	case err != nil:
		s.internalError(w, r, "reading session", err)
		return
	default:
		s.fillPage(&d, r, cs)
	}
	if err := page.Render(w, status, d); err != nil {
		s.internalError(w, r, "rendering page", err)
	}
}

func (s *Server) fillPage(d *page.Data, r *http.Request, cs store.ClassicSession) {
	t := d.T
	d.Known, d.Session = true, cs.ID
	d.Product, d.From, d.To, d.Serial = cs.Product, cs.FromVersion, cs.ToVersion, cs.Serial
	d.Notes = s.pageNotes(r, cs.Product, cs.ToVersion, d.Lang)
	v := s.sessionView(r, cs)
	if v.Remaining != nil {
		d.HasRemaining, d.Remaining = true, *v.Remaining
	}
	switch {
	case v.State == api.SessionUsed:
		d.Problem, d.Remedy = t.Used, t.UsedDo
	case v.State == api.SessionExpired:
		d.Problem, d.Remedy = t.Expired, t.ExpiredDo
	case v.State == api.SessionLocked:
		d.Problem, d.Remedy = t.Locked, t.LockedDo
	case v.Problem == api.CodeInactive:
		d.Problem, d.Remedy = t.NotEnabled, t.NotEnabledDo
	case v.Problem == api.CodeExhausted:
		d.Problem, d.Remedy = t.Exhausted, t.ExhaustedDo
	default:
		code := api.DeriveInternetCode(s.Keys.CodeSecret, cs.ID)
		d.Code = code.String()
		d.Spoken = strings.Join(strings.Split(string(code), ""), " ")
		d.Confirmed = cs.State == api.SessionConfirmed
		d.CSRF = hex.EncodeToString(s.mac("csrf", []byte(cs.ID)))
	}
}

// handleContinue is the page's "Continue the update" button: the session
// is confirmed and the installer, polling it, goes on by itself.
func (s *Server) handleContinue(w http.ResponseWriter, r *http.Request) {
	// The page's language comes in the form's URL (?lang=), so that even
	// a form that cannot be read is answered in it.
	p, chosen := page.Language(r)
	id := r.PathValue("id")
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		page.TextError(w, p, http.StatusBadRequest, i18n.M("bad form: reload the page and press the button again"))
		return
	}
	want := hex.EncodeToString(s.mac("csrf", []byte(id)))
	if !api.ValidName(id) || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(want)) != 1 {
		page.TextError(w, p, http.StatusForbidden, i18n.M("this form has expired; reload the page"))
		return
	}
	cs, err := s.Store.Session(r.Context(), id)
	if err == nil && s.Now.UTC().Before(cs.ExpiresAt) && cs.State == api.SessionOpen {
		if _, err := s.Store.ConfirmSession(r.Context(), id); err != nil && !errors.Is(err, store.ErrSessionUsed) {
			s.internalError(w, r, "confirming session", err)
			return
		}
		s.logger().Info("classic session confirmed on its page", "session", maskSession(id))
	}
	// Post/redirect/get: the page now shows what happened, in its language.
	http.Redirect(w, r, "/classic/"+id+page.LangQuery(chosen), http.StatusSeeOther)
}

// pageNotes are the release notes of product's version for the page, in
// lang or the other language; nil when there are none (or they cannot be
// read: the page works without them).
func (s *Server) pageNotes(r *http.Request, product, version, lang string) []mdtext.Block {
	cs, err := s.Store.ReleaseControls(r.Context(), product)
	if err != nil {
		s.logger().Warn("release notes not shown", "product", product, "err", err)
		return nil
	}
	raw := store.ControlOf(cs, product, version).Notes
	if raw == nil {
		return nil
	}
	var env api.Envelope
	var n api.NotesStatement
	if json.Unmarshal(raw, &env) != nil || json.Unmarshal(env.Payload, &n) != nil {
		s.logger().Warn("release notes not shown: stored notes are malformed", "product", product, "version", version)
		return nil
	}
	text, _ := n.Pick(lang)
	return mdtext.Parse(text)
}
