import { forgeHost } from '../host/forge';
import { start } from '../start';

/**
 * Entry of the Forge Custom UI resource (forge/manifest.yml `resources: ui`): the same pages, in the Forge host.
 * Which page this frame shows comes from the module's context.
 */
forgeHost().then(start, () => start(null));
