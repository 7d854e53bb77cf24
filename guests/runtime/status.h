/* Exit codes a guest reports through the platform EXIT port. */
#ifndef FERRY_STATUS_H
#define FERRY_STATUS_H

#define FERRY_EXIT_OK          0
#define FERRY_EXIT_BAD_CONFIG  2 /* a boot parameter or the RAM layout does not fit */
#define FERRY_EXIT_BAD_BOOT    3 /* the boot-info page is not ABI version 1 */

#endif
