package adminapi_test

import (
	"github.com/aktual/aktual/api"
	"github.com/aktual/aktual/server/keyring"
)

func keyringHash(w *world, c api.UpdateCode) []byte {
	return keyring.CodeHash(w.admin.Keys.CodeSecret, c)
}
