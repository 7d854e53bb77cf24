/**
 * Shadows: the hypervisor's knowledge of each device, rebuilt from trapped register accesses by the rules in
 * {@code spec}, re-learned by side-effect-free reads after an OFF period, and turned into restore plans.
 */
package dev.ferry.capture.shadow;
