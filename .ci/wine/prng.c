// bcryptprimitives.dll for Wine 8: Go 1.22 and later call ProcessPrng from
// it at start, which Wine 8.0 lacks. Built with mingw-w64 by .ci/wine/test-windows
// and put in the Wine prefix's system32; it answers from advapi32's
// SystemFunction036 (RtlGenRandom). For the Wine test build only.
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size) {
	while (size > 0) {
		ULONG n = size > 0x40000000 ? 0x40000000 : (ULONG)size;
		if (!SystemFunction036(data, n)) return FALSE;
		data += n;
		size -= n;
	}
	return TRUE;
}
