/* sekisho-scand - the scanning daemon; placeholder until scand lands. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "sekisho-scand: not built yet\n");
    return 1;
}
