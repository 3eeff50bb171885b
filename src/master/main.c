/* sekisho - the proxy (master and workers); filled in by the process-model work. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "sekisho: not built yet\n");
    return 1;
}
