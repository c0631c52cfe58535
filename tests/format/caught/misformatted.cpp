// Laid out against .clang-format on purpose: tst_format_catches must find this file, so
// a format check that stopped finding anything fails.
namespace te {
int   misformatted( int a,int b ) { if(a) { return b; } return a+b; }
}
