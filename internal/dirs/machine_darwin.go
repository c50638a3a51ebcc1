package dirs

// caseless: macOS volumes are case-insensitive by default.
const caseless = true

func machineStateBase() string { return "/Library/Application Support" }
