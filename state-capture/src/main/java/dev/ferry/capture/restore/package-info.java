/** Restore plans (ordered register writes) and state reports, and applying a plan to a fresh device. */
package dev.ferry.capture.restore;
