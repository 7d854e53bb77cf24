/** Device register specifications as data: offsets, widths, access, banking, how each value can be known. */
package dev.ferry.capture.spec;
