//go:build windows

package updater

import (
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Rights that let a holder change a file (fileWrite) or the entries of a
// folder (dirWrite). x/sys/windows does not name the file-specific ones.
const (
	fileWriteData         = 0x2  // FILE_WRITE_DATA, FILE_ADD_FILE on a folder
	fileAppendData        = 0x4  // FILE_APPEND_DATA, FILE_ADD_SUBDIRECTORY
	fileDeleteChild       = 0x40 // FILE_DELETE_CHILD
	anyWrite              = windows.WRITE_DAC | windows.WRITE_OWNER | windows.GENERIC_WRITE | windows.GENERIC_ALL
	fileWrite             = fileWriteData | fileAppendData | windows.DELETE | anyWrite
	dirWrite              = fileWriteData | fileDeleteChild | anyWrite
	inheritOnly     uint8 = windows.INHERIT_ONLY_ACE
)

// checkTrustPerms refuses a trust file that other users of this computer
// may change: whoever can write trust.json chooses the keys, and so what
// aktual installs. Its DACL, and its folder's, must grant no write to
// Everyone, Users or Authenticated Users (administrators and the owner
// may). Deny entries are not weighed against allow entries: a DACL that
// grants those groups write and then denies it is refused all the same.
func checkTrustPerms(path string) error {
	if group, err := grantsWrite(path, fileWrite); err != nil {
		return fail(ErrUsage, err, "cannot read the trust file %s: %v", path, err)
	} else if group != "" {
		return fail(ErrUsage, nil, "the trust file %s can be changed by %s on this computer, and whoever changes it chooses what aktual installs, so aktual refuses it; remove their write permission (the file's Properties, Security tab), leaving them read",
			path, group)
	}
	dir := filepath.Dir(path)
	if group, err := grantsWrite(dir, dirWrite); err != nil {
		return fail(ErrUsage, err, "cannot read the trust file %s: %v", path, err)
	} else if group != "" {
		return fail(ErrUsage, nil, "the trust file %s is in the folder %s, which %s on this computer can change: they could put another trust file in its place, so aktual refuses it; remove their write permission on the folder, or keep trust.json in a folder only you or the administrator can change",
			path, dir, group)
	}
	return nil
}

// grantsWrite names the broad group the DACL of path grants any of the
// rights in mask, or "" when none is.
func grantsWrite(path string, mask windows.ACCESS_MASK) (string, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return "", err
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		// No DACL at all grants everyone everything.
		return "Everyone", nil
	}
	broad := map[windows.WELL_KNOWN_SID_TYPE]string{
		windows.WinWorldSid:             "Everyone",
		windows.WinBuiltinUsersSid:      "Users",
		windows.WinAuthenticatedUserSid: "Authenticated Users",
	}
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return "", err
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE || ace.Header.AceFlags&inheritOnly != 0 || ace.Mask&mask == 0 {
			continue
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		for kind, name := range broad {
			if sid.IsWellKnown(kind) {
				return name, nil
			}
		}
	}
	return "", nil
}
