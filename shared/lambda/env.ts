// Function configuration from the environment, read once and failing fast with the variable's name.

export class MissingEnvironmentError extends Error {
  override name = 'MissingEnvironmentError';
}

export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new MissingEnvironmentError(`environment variable ${name} is not set`);
  }
  return value;
}

export function optionalEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}
