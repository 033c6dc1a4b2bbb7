/**
 * A Docker image reference as cilo accepts it in settings (`gateway_image`): registry, path, tag
 * and digest characters only, at most 255 characters, so it cannot carry an option or a newline.
 */
const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/;

export function isImageReference(value: unknown): value is string {
  return typeof value === "string" && IMAGE_REF.test(value) && !value.includes("//");
}
