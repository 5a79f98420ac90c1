import { describe, expect, it } from 'vitest';
import { backends, createStack } from '../helpers/stack.ts';

describe.each(backends())('$kind', (backend) => {
  it('stores and reads a service', async () => {
    const { orchestrator } = await createStack(backend);
    await orchestrator.services.register({
      name: 'email-ai',
      endpoint: 'http://email-ai:5100',
      capabilities: ['email_campaign'],
    });
    expect((await orchestrator.services.get('email-ai')).capabilities).toEqual(['email_campaign']);
  });
});
