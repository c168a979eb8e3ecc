using Spectre.Console.Cli;

namespace Dermxai.Client.Cli;

/// <summary>
/// Just enough dependency injection for Spectre.Console.Cli: registered types and instances (the
/// last registration wins; IEnumerable&lt;T&gt; gets them all), and other concrete types built
/// through their widest constructor whose parameters can all be resolved.
/// </summary>
internal sealed class TypeRegistrar : ITypeRegistrar, ITypeResolver
{
    private readonly Dictionary<Type, List<Func<object>>> _registrations = new();

    public void Register(Type service, Type implementation) => Add(service, () => Construct(implementation));
    public void RegisterInstance(Type service, object implementation) => Add(service, () => implementation);
    public void RegisterLazy(Type service, Func<object> factory) => Add(service, factory);
    public ITypeResolver Build() => this;

    public object? Resolve(Type? type)
    {
        if (type is null) return null;
        if (_registrations.TryGetValue(type, out var factories)) return factories[^1]();
        if (SequenceElement(type) is { } element) return All(element);
        return type.IsAbstract || type.IsInterface ? null : Construct(type);
    }

    private void Add(Type service, Func<object> factory)
    {
        if (!_registrations.TryGetValue(service, out var factories)) _registrations[service] = factories = [];
        factories.Add(factory);
    }

    private Array All(Type element)
    {
        var factories = _registrations.GetValueOrDefault(element) ?? [];
        var items = Array.CreateInstance(element, factories.Count);
        for (var i = 0; i < factories.Count; i++) items.SetValue(factories[i](), i);
        return items;
    }

    private static Type? SequenceElement(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>) ? type.GetGenericArguments()[0] : null;

    private bool CanResolve(Type type) =>
        _registrations.ContainsKey(type) || SequenceElement(type) is not null || (!type.IsAbstract && !type.IsInterface && type != typeof(string) && !type.IsPrimitive);

    private object Construct(Type type)
    {
        var constructor = type.GetConstructors()
            .Where(c => c.GetParameters().All(p => CanResolve(p.ParameterType)))
            .OrderByDescending(c => c.GetParameters().Length)
            .FirstOrDefault()
            ?? throw new InvalidOperationException($"No constructor of {type.Name} can be satisfied.");
        return constructor.Invoke(constructor.GetParameters().Select(p => Resolve(p.ParameterType)).ToArray());
    }
}
