import { setGlobalTheme } from '@atlaskit/tokens/set-global-theme';

export type ColorMode = 'light' | 'dark' | 'auto';

/**
 * Light or dark from the ADS tokens. Bitbucket follows the browser's colour scheme unless the user chose one, so
 * the page does too (`auto`); `?theme=light|dark` forces one (used for screenshots and by hosts that know better).
 */
export function colorModeFrom(search: string): ColorMode {
  const theme = new URLSearchParams(search).get('theme');
  return theme === 'light' || theme === 'dark' ? theme : 'auto';
}

export async function applyTheme(mode: ColorMode): Promise<void> {
  await setGlobalTheme({
    colorMode: mode,
    light: 'light',
    dark: 'dark',
    typography: 'typography',
    spacing: 'spacing',
    shape: 'shape',
  });
}
