package console

import "github.com/aktual/aktual/internal/i18n"

// phrases are the console's words in p's language, by their English
// text (the catalog keys; Bulgarian: internal/i18n/locales/bg/console.json).
// A page asks for a phrase by its English text: {{t .T "Search"}}; one
// missing here shows as MISSING:…, which the page tests catch.
func phrases(p *i18n.Printer) map[string]string {
	m := map[string]string{}
	for _, part := range []func(*i18n.Printer) map[string]string{codePhrases, accountPhrases, phrases0, phrases1, phrases2, fieldPhrases, releasePhrases} {
		for k, v := range part(p) {
			m[k] = v
		}
	}
	// Headings of the changes and labels of their fields, by code.
	for code, english := range map[string]string{
		"action:activate":        "Activate updates",
		"action:add":             "Add updates",
		"action:suspend":         "Suspend",
		"action:reinstate":       "Reinstate",
		"action:replace-key":     "Replace the hardware key",
		"action:reissue":         "Reissue the update code",
		"action:correct":         "Correct the counts",
		"action:staff-add":       "Add a staff account",
		"action:staff-disable":   "Disable a staff account",
		"action:staff-enable":    "Enable a staff account",
		"action:staff-reset":     "Give a new password",
		"action:token-add":       "Make an API token",
		"action:token-revoke":    "Revoke an API token",
		"action:customer":        "Change the customer's record",
		"action:distributor-add": "Add a distributor",
		"action:release-rollout": "Roll out a release",
		"action:release-halt":    "Halt a release",
		"action:release-resume":  "Resume a release",
		"action:release-yank":    "Withdraw a release for good",
		"field:login":            "Login",
		"field:role":             "Role",
		"field:distributor":      "Distributor",
		"field:name":             "Name",
		"field:id":               "Token",
		"field:reason":           "Reason",
	} {
		m[code] = m[english]
	}
	return m
}

func phrases0(p *i18n.Printer) map[string]string {
	return map[string]string{
		"(a new customer)":                p.Sprintf("(a new customer)"),
		"API tokens":                      p.Sprintf("API tokens"),
		"Actions":                         p.Sprintf("Actions"),
		"Activate more for this customer": p.Sprintf("Activate more for this customer"),
		"Activate updates":                p.Sprintf("Activate updates"),
		"Add a distributor":               p.Sprintf("Add a distributor"),
		"Add a staff account":             p.Sprintf("Add a staff account"),
		"Add updates":                     p.Sprintf("Add updates"),
		"After":                           p.Sprintf("After"),
		"All customers":                   p.Sprintf("All customers"),
		"Audit log":                       p.Sprintf("Audit log"),
		"Audit log, newest first":         p.Sprintf("Audit log, newest first"),
		"Back":                            p.Sprintf("Back"),
		"Back to the customer":            p.Sprintf("Back to the customer"),
		"Back to the customers":           p.Sprintf("Back to the customers"),
		"Cancel":                          p.Sprintf("Cancel"),
		"Change":                          p.Sprintf("Change"),
		"Change of purchased and remaining updates (e.g. -2 or 1)": p.Sprintf("Change of purchased and remaining updates (e.g. -2 or 1)"),
		"Classic: a hardware key":                                  p.Sprintf("Classic: a hardware key"),
		"Confirm":                                                  p.Sprintf("Confirm"),
		"Confirm the change":                                       p.Sprintf("Confirm the change"),
		"Consumed":                                                 p.Sprintf("Consumed"),
		"Continue":                                                 p.Sprintf("Continue"),
		"Correct":                                                  p.Sprintf("Correct"),
		"Correct the counts":                                       p.Sprintf("Correct the counts"),
		"Credential":                                               p.Sprintf("Credential"),
		"Credentials":                                              p.Sprintf("Credentials"),
		"Customer":                                                 p.Sprintf("Customer"),
		"Customer since":                                           p.Sprintf("Customer since"),
		"Customer's name":                                          p.Sprintf("Customer's name"),
		"Customers":                                                p.Sprintf("Customers"),
		"Customers found":                                          p.Sprintf("Customers found"),
		"Dates are written 2026-12-07.":                            p.Sprintf("Dates are written 2026-12-07."),
		"Details":                                                  p.Sprintf("Details"),
		"Disable":                                                  p.Sprintf("Disable"),
		"Disable a staff account":                                  p.Sprintf("Disable a staff account"),
		"Distributor":                                              p.Sprintf("Distributor"),
		"Distributor (distributor accounts only)":      p.Sprintf("Distributor (distributor accounts only)"),
		"Distributor (empty: the vendor's own office)": p.Sprintf("Distributor (empty: the vendor's own office)"),
		"Done":                               p.Sprintf("Done"),
		"Enable":                             p.Sprintf("Enable"),
		"Enable a staff account":             p.Sprintf("Enable a staff account"),
		"Filter the audit log":               p.Sprintf("Filter the audit log"),
		"For the account":                    p.Sprintf("For the account"),
		"From (day)":                         p.Sprintf("From (day)"),
		"From address":                       p.Sprintf("From address"),
		"Give a new password":                p.Sprintf("Give a new password"),
		"Hardware key":                       p.Sprintf("Hardware key"),
		"Hardware key serial (classic only)": p.Sprintf("Hardware key serial (classic only)"),
		"Held":                               p.Sprintf("Held"),
	}
}

func phrases1(p *i18n.Printer) map[string]string {
	return map[string]string{
		"History of the counts, newest first": p.Sprintf("History of the counts, newest first"),
		"Invoice":                             p.Sprintf("Invoice"),
		"Invoice number":                      p.Sprintf("Invoice number"),
		"Last used":                           p.Sprintf("Last used"),
		"Leave empty for the Pro series.":     p.Sprintf("Leave empty for the Pro series."),
		"Login":                               p.Sprintf("Login"),
		"Main menu":                           p.Sprintf("Main menu"),
		"Make an API token":                   p.Sprintf("Make an API token"),
		"Name":                                p.Sprintf("Name"),
		"Name (what uses it)":                 p.Sprintf("Name (what uses it)"),
		"Name, VAT number, end of an update code, or hardware key": p.Sprintf("Name, VAT number, end of an update code, or hardware key"),
		"Narrow to role (empty: the account's)":                    p.Sprintf("Narrow to role (empty: the account's)"),
		"New password":                                             p.Sprintf("New password"),
		"Next page":                                                p.Sprintf("Next page"),
		"No customer matches.":                                     p.Sprintf("No customer matches."),
		"Not found":                                                p.Sprintf("Not found"),
		"Nothing yet.":                                             p.Sprintf("Nothing yet."),
		"Now":                                                      p.Sprintf("Now"),
		"Number of updates":                                        p.Sprintf("Number of updates"),
		"Older entries":                                            p.Sprintf("Older entries"),
		"Password":                                                 p.Sprintf("Password"),
		"Platform":                                                 p.Sprintf("Platform"),
		"Pro: a 25-digit update code":                              p.Sprintf("Pro: a 25-digit update code"),
		"Product":                                                  p.Sprintf("Product"),
		"Published":                                                p.Sprintf("Published"),
		"Published releases, newest first":                         p.Sprintf("Published releases, newest first"),
		"Purchased":                                                p.Sprintf("Purchased"),
		"Reason":                                                   p.Sprintf("Reason"),
		"Reason (goes in the audit log)":                           p.Sprintf("Reason (goes in the audit log)"),
		"Refused":                                                  p.Sprintf("Refused"),
		"Reinstate":                                                p.Sprintf("Reinstate"),
		"Reissue the code":                                         p.Sprintf("Reissue the code"),
		"Reissue the update code":                                  p.Sprintf("Reissue the update code"),
		"Releases":                                                 p.Sprintf("Releases"),
		"Remaining":                                                p.Sprintf("Remaining"),
		"Replace the hardware key":                                 p.Sprintf("Replace the hardware key"),
		"Replace the key":                                          p.Sprintf("Replace the key"),
		"Review the change":                                        p.Sprintf("Review the change"),
		"Revoke":                                                   p.Sprintf("Revoke"),
		"Revoke an API token":                                      p.Sprintf("Revoke an API token"),
		"Role":                                                     p.Sprintf("Role"),
		"Search":                                                   p.Sprintf("Search"),
		"Series":                                                   p.Sprintf("Series"),
		"Show":                                                     p.Sprintf("Show"),
		"Sign in":                                                  p.Sprintf("Sign in"),
		"Sign out":                                                 p.Sprintf("Sign out"),
		"Size (bytes)":                                             p.Sprintf("Size (bytes)"),
		"Skip to the content":                                      p.Sprintf("Skip to the content"),
		"Staff":                                                    p.Sprintf("Staff"),
		"Staff accounts":                                           p.Sprintf("Staff accounts"),
	}
}

func phrases2(p *i18n.Printer) map[string]string {
	return map[string]string{
		"Staff member or token (e.g. staff:maria)": p.Sprintf("Staff member or token (e.g. staff:maria)"),
		"State":   p.Sprintf("State"),
		"Suspend": p.Sprintf("Suspend"),
		"The 6-digit code your authenticator app shows now": p.Sprintf("The 6-digit code your authenticator app shows now"),
		"The form was refused: it did not come from this console (its security token is missing or old). Open the page again and repeat.": p.Sprintf("The form was refused: it did not come from this console (its security token is missing or old). Open the page again and repeat."),
		"The new key's serial":                       p.Sprintf("The new key's serial"),
		"The old code stops working at once.":        p.Sprintf("The old code stops working at once."),
		"The old key stops working at once.":         p.Sprintf("The old key stops working at once."),
		"The same invoice is never activated twice.": p.Sprintf("The same invoice is never activated twice."),
		"The server failed; the error is in its log. Look at the customer before you repeat: the change may have been made.": p.Sprintf("The server failed; the error is in its log. Look at the customer before you repeat: the change may have been made."),
		"Their sessions and API tokens stop working at once.":                                                                p.Sprintf("Their sessions and API tokens stop working at once."),
		"Their sessions end; the new password is shown once.":                                                                p.Sprintf("Their sessions end; the new password is shown once."),
		"There is no such page.":         p.Sprintf("There is no such page."),
		"This customer's audit log":      p.Sprintf("This customer's audit log"),
		"To (day, included)":             p.Sprintf("To (day, included)"),
		"Token":                          p.Sprintf("Token"),
		"Update code":                    p.Sprintf("Update code"),
		"Update codes and hardware keys": p.Sprintf("Update codes and hardware keys"),
		"VAT number":                     p.Sprintf("VAT number"),
		"VAT number (a new customer)":    p.Sprintf("VAT number (a new customer)"),
		"Version":                        p.Sprintf("Version"),
		"What":                           p.Sprintf("What"),
		"What will change":               p.Sprintf("What will change"),
		"When":                           p.Sprintf("When"),
		"Who":                            p.Sprintf("Who"),
		"Your session has ended. Sign in again; nothing was changed.": p.Sprintf("Your session has ended. Sign in again; nothing was changed."),
		"a new code (shown once, after you confirm)":                  p.Sprintf("a new code (shown once, after you confirm)"),
		"active":           p.Sprintf("active"),
		"disabled":         p.Sprintf("disabled"),
		"never":            p.Sprintf("never"),
		"revoked":          p.Sprintf("revoked"),
		"staff console":    p.Sprintf("staff console"),
		"suspended":        p.Sprintf("suspended"),
		"two-step sign-in": p.Sprintf("two-step sign-in"),
	}
}

// codePhrases name the ledger kinds and audit actions in the reader's
// language, by code ("kind:purchase", "event:login").
func codePhrases(p *i18n.Printer) map[string]string {
	return map[string]string{
		"kind:purchase":              p.Sprintf("purchase"),
		"kind:reserve":               p.Sprintf("reserved for an update"),
		"kind:complete":              p.Sprintf("update applied"),
		"kind:release":               p.Sprintf("given back (not applied)"),
		"kind:expire":                p.Sprintf("given back (expired)"),
		"kind:retake":                p.Sprintf("late completion"),
		"kind:overdraft":             p.Sprintf("overdraft"),
		"kind:correction":            p.Sprintf("correction"),
		"event:activate":             p.Sprintf("activation"),
		"event:customer":             p.Sprintf("customer changed"),
		"event:distributor.add":      p.Sprintf("distributor added"),
		"event:login":                p.Sprintf("signed in"),
		"event:login.disabled":       p.Sprintf("sign-in of a disabled account"),
		"event:login.failed":         p.Sprintf("failed sign-in"),
		"event:staff.add":            p.Sprintf("staff account added"),
		"event:staff.disable":        p.Sprintf("staff account disabled"),
		"event:staff.enable":         p.Sprintf("staff account enabled"),
		"event:staff.reset-password": p.Sprintf("new password"),
		"event:staff.totp-off":       p.Sprintf("two-step sign-in off"),
		"event:staff.totp-on":        p.Sprintf("two-step sign-in on"),
		"event:token.add":            p.Sprintf("API token made"),
		"event:token.revoke":         p.Sprintf("API token revoked"),
		"event:suspend":              p.Sprintf("suspended"),
		"event:reinstate":            p.Sprintf("reinstated"),
		"event:replace":              p.Sprintf("hardware key replaced"),
		"event:reissue":              p.Sprintf("update code reissued"),
		"event:correct":              p.Sprintf("correction"),
	}
}

// accountPhrases are the words of the account page.
func accountPhrases(p *i18n.Printer) map[string]string {
	return map[string]string{
		"Change the customer's record":          p.Sprintf("Change the customer's record"),
		"Change the VAT number or distributor":  p.Sprintf("Change the VAT number or distributor"),
		"My account":                            p.Sprintf("My account"),
		"Two-step sign-in":                      p.Sprintf("Two-step sign-in"),
		"on":                                    p.Sprintf("on"),
		"off":                                   p.Sprintf("off"),
		"Change your password":                  p.Sprintf("Change your password"),
		"Current password":                      p.Sprintf("Current password"),
		"New password (at least 12 characters)": p.Sprintf("New password (at least 12 characters)"),
		"The new password again":                p.Sprintf("The new password again"),
		"Change the password":                   p.Sprintf("Change the password"),
		"Set up two-step sign-in":               p.Sprintf("Set up two-step sign-in"),
		"Add this key to your authenticator app (by typing it, or from the link on a phone), then type the code the app shows:": p.Sprintf("Add this key to your authenticator app (by typing it, or from the link on a phone), then type the code the app shows:"),
		"Open in the authenticator app": p.Sprintf("Open in the authenticator app"),
		"Turn on two-step sign-in":      p.Sprintf("Turn on two-step sign-in"),
		"With two-step sign-in, the console also asks for a code from an app on your phone, so a stolen password alone does not open it.": p.Sprintf("With two-step sign-in, the console also asks for a code from an app on your phone, so a stolen password alone does not open it."),
		"The new password and its repetition differ; type them again.":                                                                    p.Sprintf("The new password and its repetition differ; type them again."),
	}
}
