import { describe, expect, it } from 'vitest';
import { synthesize, unacknowledgedFindings } from './helpers.ts';

/** The `evaluationNetwork` knob (DESIGN.md "The stack's knobs"): never a NAT gateway. */
describe('evaluation network', () => {
  it('runs stages in public subnets with public IPs and no NAT gateway by default', () => {
    const { template } = synthesize();
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    const subnets = Object.values(template.findResources('AWS::EC2::Subnet'));
    expect(subnets.every((s) => s.Properties.MapPublicIpOnLaunch === true)).toBe(true);
  });

  it('runs stages in isolated subnets reaching S3, ECR and logs through endpoints when set to endpoints', () => {
    const { app, template } = synthesize({ evaluationNetwork: 'endpoints', stage: 'closed' });
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    const services = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((e) => JSON.stringify(e.Properties.ServiceName));
    expect(services).toHaveLength(4);
    for (const name of ['.s3', '.ecr.api', '.ecr.dkr', '.logs']) expect(services.some((s) => s.includes(name))).toBe(true);
    expect(unacknowledgedFindings(app)).toEqual([]);
  });
});
