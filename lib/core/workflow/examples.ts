import type { WorkflowTemplateInput } from './template.ts';

/** Two steps in series: an image, then a market analysis once the image exists. */
export const generateAndAnalyze: WorkflowTemplateInput = {
  workflow_id: 'generate-and-analyze',
  name: 'Generate Image and Analyze Market',
  description: 'Generate product image and analyze market opportunity',
  steps: [
    {
      step_id: 'step1',
      name: 'Generate Product Image',
      factory_type: 'media',
      action: 'generate_image',
      parameters: { prompt: 'Product mockup', style: 'realistic' },
      dependencies: [],
    },
    {
      step_id: 'step2',
      name: 'Analyze Market',
      factory_type: 'research',
      action: 'market_analysis',
      parameters: { market_sector: 'technology' },
      dependencies: ['step1'],
    },
  ],
};

/**
 * Research and trend discovery in parallel; images once the research is in (their brief is the
 * research summary), then a video from the images. The video step takes the images step's whole
 * output: two PNGs are above the inline size, so it travels as an artifact reference, which the
 * factory reads through the presigned URL it is given.
 */
export const productLaunchCampaign: WorkflowTemplateInput = {
  workflow_id: 'product-launch-campaign',
  name: 'Product Launch Campaign',
  description: 'Generate media and conduct research for product launch',
  max_retries: 3,
  parallel_execution: true,
  timeout: 3_600,
  steps: [
    {
      step_id: 'research_market',
      name: 'Market Research',
      factory_type: 'research',
      action: 'market_analysis',
      parameters: { market_sector: 'technology', depth: 'comprehensive' },
    },
    {
      step_id: 'discover_trends',
      name: 'Trend Discovery',
      factory_type: 'research',
      action: 'discover_technology',
      parameters: { query: 'emerging tech trends' },
      dependencies: [],
    },
    {
      step_id: 'generate_images',
      name: 'Product Images',
      factory_type: 'media',
      action: 'generate_images',
      parameters: {
        prompts: ['Product hero', 'Product detail'],
        brief: 'Market insight: {{steps.research_market.output.summary}}',
      },
      dependencies: ['research_market'],
    },
    {
      step_id: 'generate_video',
      name: 'Product Video',
      factory_type: 'media',
      action: 'generate_video',
      parameters: {
        prompt: 'Product showcase',
        duration: 30,
        images: '{{steps.generate_images.output}}',
      },
      dependencies: ['generate_images'],
    },
  ],
};

/** The example templates by workflow id. */
export const exampleWorkflows: Readonly<Record<string, WorkflowTemplateInput>> = {
  [generateAndAnalyze.workflow_id]: generateAndAnalyze,
  [productLaunchCampaign.workflow_id]: productLaunchCampaign,
};
