// Package browsertest drives the Internet-code page in a real headless
// Chromium against a real server: what a classic-series customer sees.
package browsertest
