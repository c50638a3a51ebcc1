package api

// dammTable is the quasigroup of order 10 from H. Michael Damm's thesis
// (2004). Its check digit detects every single-digit error and every
// transposition of adjacent digits.
var dammTable = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// dammInterim runs digits (ASCII '0'..'9') through the Damm quasigroup.
// Appending the result to digits makes the whole string check to zero.
func dammInterim(digits string) byte {
	var interim byte
	for i := 0; i < len(digits); i++ {
		interim = dammTable[interim][digits[i]-'0']
	}
	return interim
}

// DammCheckDigit returns the check digit (ASCII) for a string of ASCII digits.
func DammCheckDigit(digits string) byte { return '0' + dammInterim(digits) }

// DammValid reports whether digits, check digit last, is consistent.
func DammValid(digits string) bool { return dammInterim(digits) == 0 }
