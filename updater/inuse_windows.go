package updater

const isWindows = true
