package dirs

// Programs is the folder under which aktual install makes a product's
// folder when no --dir names one: the user's own programs folder, or with
// allUsers the machine's. Its error names --dir.
func Programs(allUsers bool) (string, error) {
	if allUsers {
		return machinePrograms(), nil
	}
	return userDir(userPrograms, "", "--dir")
}
