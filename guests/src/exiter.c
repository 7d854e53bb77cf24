/* exiter: prints its exit code and exits with it (param code, default 0). */
#include "ferry.h"

int main(const struct ferry_boot *boot)
{
    (void)boot;
    uint32_t code = (uint32_t)param_u64("code", 0);
    print("exiter code=%u\n", code);
    return (int)code;
}
