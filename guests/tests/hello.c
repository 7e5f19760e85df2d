/* hello.c - the smallest guest: one line on the console, exit status 0. */
#include "rt.h"

int main(void)
{
    puts("Hello from discovm!");
    return 0;
}
