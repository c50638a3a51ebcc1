package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/hwkey"
	"github.com/aktual/aktual/internal/i18n"
	"github.com/aktual/aktual/updater"
)

// credentialKind checks, once the product's series is known from its
// signed release, that the right kind of credential was given, and finds
// the hardware key for a classic-series product. keyPath is --hwkey.
func credentialKind(ctx context.Context, plan *updater.Plan, keyPath string, code api.UpdateCode) (hwkey.Key, error) {
	switch plan.Latest.Series {
	case api.SeriesClassic:
		if code != "" {
			return nil, &updater.Error{Kind: updater.ErrCredentialRejected, Msg: i18n.M(
				"%s is a classic-series product: it is updated with its hardware key and an Internet code, not an update code; drop --code", plan.Product)}
		}
		key, err := hwkey.Locate(ctx, keyPath, hwkey.Hint{TargetDir: filepath.Dir(plan.Target)}, hwkey.FileDriver{})
		if errors.Is(err, hwkey.ErrNoKey) || errors.Is(err, hwkey.ErrSeveralKeys) {
			return nil, &updater.Error{Kind: updater.ErrInputNeeded, Err: err}
		} else if err != nil {
			return nil, &updater.Error{Kind: updater.ErrCredentialRejected, Err: err}
		}
		return key, nil
	default:
		if keyPath != "" {
			return nil, &updater.Error{Kind: updater.ErrCredentialRejected, Msg: i18n.M(
				"%s is a Pro-series product: it is updated with a 25-digit update code, not a hardware key; drop --hwkey", plan.Product)}
		}
		return nil, nil
	}
}

// classicCredential opens the Internet-code page and waits for whichever
// comes first: the code typed (or piped) into the installer, or the
// "Continue the update" button pressed on the page.
func classicCredential(ctx context.Context, ios *IOStreams, u *updater.Updater, plan *updater.Plan, key hwkey.Key, o *updateOptions) (api.Credential, error) {
	sess, err := u.OpenClassicSession(ctx, plan, key)
	if err != nil {
		return api.Credential{}, err
	}
	if !o.noBrowser {
		if err := o.browser.Open(pageURL(sess.URL, ios.P)); err != nil {
			fmt.Fprintln(ios.ErrOut, ios.P.Sprintf("Could not open a browser (%v); open the address above yourself.", err))
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	confirmed := make(chan error, 1)
	go func() { confirmed <- u.WaitConfirmed(ctx, sess.ID, o.pollInterval) }()
	typed := make(chan typedCode, 1)
	go func() {
		c, err := askInternetCode(ctx, ios)
		typed <- typedCode{c, err}
	}()
	select {
	case t := <-typed:
		if t.err != nil {
			return api.Credential{}, t.err
		}
		return api.Credential{Session: sess.ID, InternetCode: string(t.code)}, nil
	case err := <-confirmed:
		if err != nil {
			return api.Credential{}, err
		}
		fmt.Fprintln(ios.ErrOut, "\n"+ios.P.Sprintf("\"Continue the update\" was pressed on the page; continuing."))
		return api.Credential{Session: sess.ID}, nil
	}
}

type typedCode struct {
	code api.InternetCode
	err  error
}

// askInternetCode reads the Internet code, checking its check digit: on a
// terminal a typo is shown and asked again; from a pipe it fails at once.
func askInternetCode(ctx context.Context, ios *IOStreams) (api.InternetCode, error) {
	for attempt := 1; ; attempt++ {
		line, err := ios.Prompt(ctx, ios.P.Sprintf("Type the Internet code shown on the page (or press \"Continue the update\" there): "),
			i18n.M("the Internet code is needed but standard input ended; pipe the code on standard input, or keep it open and press \"Continue the update\" on the page"))
		if err != nil {
			return "", err
		}
		code, err := api.ParseInternetCode(line)
		if err == nil {
			return code, nil
		}
		if !ios.InTTY || attempt >= maxCodeAttempts {
			return "", &updater.Error{Kind: updater.ErrCredentialRejected, Err: err}
		}
		fmt.Fprintf(ios.ErrOut, "%s.\n", capitalize(ios.P.Sprint(err)))
	}
}

// pageURL adds the installer's language to the Internet-code page's
// address, so the page speaks as the installer does.
func pageURL(page string, P *i18n.Printer) string {
	u, err := url.Parse(page)
	if err != nil {
		return page
	}
	q := u.Query()
	q.Set("lang", P.Lang().String())
	u.RawQuery = q.Encode()
	return u.String()
}

// defaultPollInterval: how often the page's Continue button is checked.
const defaultPollInterval = updater.DefaultPollInterval
